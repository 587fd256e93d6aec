// Package cloudhost recognises the registry host names of Google Artifact
// Registry / Container Registry and Azure Container Registry by exact,
// anchored rules, so that a cloud token is never sent to a look-alike host
// (GO-2026-6225: an unanchored ACR check sent tokens to
// evil.azurecr.io.attacker.com). Like ecrhost it links no cloud SDK, so
// config and the helper may use it. The host forms come from
// docker-credential-gcr (config/const.go) and ACR's login server names;
// see shared/clouds.md §1.1 and §2.
package cloudhost

import (
	"net"
	"regexp"
	"strings"
	"sync"
)

var (
	// gcr.io and its one-label regional and special forms (us, eu, asia,
	// marketplace, k8s, mirror…).
	gcrRE = lazyRegexp(`^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)?gcr\.io$`)
	// LOCATION-docker.pkg.dev, such as europe-west3-docker.pkg.dev: a
	// location is lower-case letters, digits and single hyphens.
	garRE = lazyRegexp(`^[a-z][a-z0-9]*(-[a-z0-9]+)*-docker\.pkg\.dev$`)
	// docker.LOCATION.rep.pkg.dev, the regional endpoints.
	garRepRE = lazyRegexp(`^docker\.[a-z][a-z0-9]*(-[a-z0-9]+)*\.rep\.pkg\.dev$`)
	// NAME.azurecr.io (public), .azurecr.cn (China), .azurecr.us (US
	// Government); NAME may carry the domain-name-label hash (NAME-HASH).
	acrRE = lazyRegexp(`^[a-z0-9]+(-[a-z0-9]+)*\.azurecr\.(io|cn|us)$`)
)

// Google reports whether host (host[:port], any case) is a Google
// registry host: gcr.io and X.gcr.io, LOCATION-docker.pkg.dev,
// docker.LOCATION.rep.pkg.dev, or container.cloud.google.com. A port
// makes it no Google host: Google serves on 443 only.
func Google(host string) bool {
	h := strings.ToLower(host)
	return h == "container.cloud.google.com" || gcrRE().MatchString(h) || garRE().MatchString(h) || garRepRE().MatchString(h)
}

// Azure reports whether host (host[:port], any case) is an Azure
// Container Registry login server in the public, China or US Government
// cloud. A port makes it none.
func Azure(host string) bool { return acrRE().MatchString(strings.ToLower(host)) }

// Loopback reports whether host (host[:port]) names this machine:
// localhost or a loopback address. Such an endpoint is a local mirror or
// proxy (or a test's fake registry), which may be given any cloud token.
func Loopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
