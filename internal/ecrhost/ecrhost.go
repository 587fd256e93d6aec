// Package ecrhost recognises Amazon ECR registry host names in every
// partition and form, and says which region and API endpoint serve them.
// It links no AWS code, so the config package and the helper can use it.
package ecrhost

import (
	"regexp"
	"strings"
	"sync"
)

// Host is what an ECR registry host name says about itself.
type Host struct {
	Account   string // 12-digit registry id; empty for ECR Public
	Region    string // the region whose API issues the token
	FIPS      bool   // dkr.ecr-fips: the token must come from the FIPS API endpoint
	DualStack bool   // dkr-ecr.REGION.on.aws
	Public    bool   // ECR Public: token from us-east-1 through the ecr-public API
}

// PublicRegion is the only region that issues ECR Public tokens.
const PublicRegion = "us-east-1"

var (
	// <account>.dkr.ecr[-fips].<region>.<partition DNS suffix>
	privateRE = lazyRegexp(`^([0-9]{12})\.dkr\.(ecr|ecr-fips)\.([a-z0-9-]+)\.` +
		`(amazonaws\.com|amazonaws\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)
	// <account>.dkr-ecr[-fips].<region>.on.aws (dual-stack)
	dualStackRE = lazyRegexp(`^([0-9]{12})\.dkr-(ecr|ecr-fips)\.([a-z0-9-]+)\.` +
		`(on\.aws|on\.amazonwebservices\.com\.cn)$`)
	regionRE = lazyRegexp(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Parse recognises host (host[:port], any case). ok is false for anything
// that is not an ECR host name.
func Parse(host string) (h Host, ok bool) {
	host = strings.ToLower(host)
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	switch host {
	case "public.ecr.aws", "ecr-public.aws.com":
		return Host{Region: PublicRegion, Public: true}, true
	}
	m := privateRE().FindStringSubmatch(host)
	dual := false
	if m == nil {
		m = dualStackRE().FindStringSubmatch(host)
		dual = true
	}
	if m == nil || !regionRE().MatchString(m[3]) {
		return Host{}, false
	}
	return Host{Account: m[1], Region: m[3], FIPS: m[2] == "ecr-fips", DualStack: dual}, true
}

// ValidRegion reports whether r looks like an AWS region name (us-west-2,
// cn-north-1, us-gov-east-1, us-iso-east-1, eu-isoe-west-1).
func ValidRegion(r string) bool { return regionRE().MatchString(r) }

// lazyRegexp compiles pattern on first use: the helper links this package
// and starts on every pull, so package init must not compile patterns.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
