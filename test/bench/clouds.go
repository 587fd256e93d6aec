package bench

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MixedFleet is a node config of ECR, GAR and ACR registries, each cloud's
// spread over a few identities: the "100-registry mixed config" whose token
// requests BENCHMARKS.md reports (issue 16).
type MixedFleet struct {
	// ECR: ECRIdentities access keys × ECRRegions, ECRPerPair accounts
	// (registries) in each pair.
	ECRIdentities int
	ECRRegions    []string
	ECRPerPair    int
	// GAR: GARIdentities service-account keys, GARPerIdentity registry
	// hosts each (every host distinct, from garHosts).
	GARIdentities, GARPerIdentity int
	// ACR: ACRIdentities client-secret applications, ACRPerIdentity
	// registries each (every registry its own azfake front).
	ACRIdentities, ACRPerIdentity int
}

// DefaultMixed is the fleet BENCHMARKS.md reports: 40 ECR (4 identities ×
// 2 regions × 5 accounts), 30 GAR (3 keys × 10 hosts), 30 ACR (3
// applications × 10 registries).
var DefaultMixed = MixedFleet{
	ECRIdentities: 4, ECRRegions: []string{"us-east-1", "eu-west-1"}, ECRPerPair: 5,
	GARIdentities: 3, GARPerIdentity: 10,
	ACRIdentities: 3, ACRPerIdentity: 10,
}

// ECR, GAR and ACR are the number of registries of each type.
func (m MixedFleet) ECR() int { return m.ECRIdentities * len(m.ECRRegions) * m.ECRPerPair }

// GAR is the number of gar registries.
func (m MixedFleet) GAR() int { return m.GARIdentities * m.GARPerIdentity }

// ACR is the number of acr registries.
func (m MixedFleet) ACR() int { return m.ACRIdentities * m.ACRPerIdentity }

// String names the fleet: "100 registries: 40 ECR (4 identities x 2
// regions), 30 GAR (3 identities), 30 ACR (3 identities x 10 registries)".
func (m MixedFleet) String() string {
	return fmt.Sprintf("%d registries: %d ECR (%d identities x %d regions), %d GAR (%d identities), %d ACR (%d identities x %d registries)",
		m.ECR()+m.GAR()+m.ACR(), m.ECR(), m.ECRIdentities, len(m.ECRRegions), m.GAR(), m.GARIdentities,
		m.ACR(), m.ACRIdentities, m.ACRPerIdentity)
}

// garHosts are real Google registry hosts of every form Artifact Registry
// and Container Registry use. No token fetch contacts a registry host: a
// Google access token is asked of the key's token_uri.
var garHosts = func() []string {
	var hosts []string
	for _, loc := range []string{"us", "europe", "asia", "us-central1", "us-east1", "us-east4", "us-west1",
		"us-west2", "europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-north1",
		"asia-east1", "asia-northeast1", "asia-south1", "australia-southeast1", "southamerica-east1",
		"northamerica-northeast1", "me-west1"} {
		hosts = append(hosts, loc+"-docker.pkg.dev")
	}
	for _, loc := range []string{"us-central1", "europe-west1", "asia-east1", "us-east4", "europe-west4"} {
		hosts = append(hosts, "docker."+loc+".rep.pkg.dev")
	}
	return append(hosts, "gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io", "marketplace.gcr.io")
}()

// Identities of the mixed fleet at the three fakes.

// ecrKeyID is ECR identity i's access key id.
func ecrKeyID(i int) string { return fmt.Sprintf("AKIAMIXED%011d", i) }

// garEmail is GAR identity i's service account.
func garEmail(i int) string { return fmt.Sprintf("puller-%d@ocicred-bench.iam.gserviceaccount.com", i) }

// acrClientID is ACR identity i's application (client) id.
func acrClientID(i int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", 100+i) }

// acrSecretEnv names the variable that holds ACR identity i's client secret.
func acrSecretEnv(i int) string { return fmt.Sprintf("OCICRED_BENCH_ACR_SECRET_%d", i) }

// acrTenant is the tenant of every ACR identity.
const acrTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// MixedSetup is what Config needs from the running fakes: where the GAR
// key files are (one per GAR identity, token_uri at gcpfake), the ACR
// registry fronts' base URLs (ACRPerIdentity per identity, in identity
// order) and Entra ID's authority host.
type MixedSetup struct {
	GARKeyFiles   []string
	ACRRegistries []string
	AuthorityHost string
}

// Config renders the fleet as an ocicred config. ECR registry j of pair
// (identity i, region r) is account 200000000000+n at its real host name
// (the AWS API goes to awsfake through AWS_ENDPOINT_URL_ECR), its secret
// key inline; GAR registry j of identity i is a real Google host with
// identity i's key file; ACR registry j of identity i is setup's front,
// with identity i's client secret in acrSecretEnv(i). It fails when setup
// has too few key files or fronts.
func (m MixedFleet) Config(setup MixedSetup) (string, error) {
	if len(setup.GARKeyFiles) < m.GARIdentities || len(setup.ACRRegistries) < m.ACR() || len(garHosts) < m.GAR() {
		return "", fmt.Errorf("mixed fleet: %d key files, %d ACR fronts, %d Google hosts; want %d, %d, %d",
			len(setup.GARKeyFiles), len(setup.ACRRegistries), len(garHosts), m.GARIdentities, m.ACR(), m.GAR())
	}
	var b strings.Builder
	b.WriteString("registries:\n")
	n := 0
	for i := range m.ECRIdentities {
		for _, region := range m.ECRRegions {
			for range m.ECRPerPair {
				fmt.Fprintf(&b, "  - name: ecr-%03d\n    type: ecr\n    endpoint: %d.dkr.ecr.%s.amazonaws.com\n"+
					"    credentials: {type: secret, accessKeyId: %s, secretAccessKey: %s}\n",
					n, 200000000000+n, region, ecrKeyID(i), benchSecretKey)
				n++
			}
		}
	}
	for i := range m.GARIdentities {
		for j := range m.GARPerIdentity {
			k := i*m.GARPerIdentity + j
			fmt.Fprintf(&b, "  - name: gar-%03d\n    type: gar\n    endpoint: %s\n"+
				"    credentials: {type: serviceAccountKey, keyFile: %s}\n", k, garHosts[k], setup.GARKeyFiles[i])
		}
	}
	for i := range m.ACRIdentities {
		for j := range m.ACRPerIdentity {
			k := i*m.ACRPerIdentity + j
			fmt.Fprintf(&b, "  - name: acr-%03d\n    type: acr\n    endpoint: %s\n    tenantId: %s\n"+
				"    authorityHost: %s\n    disableInstanceDiscovery: true\n"+
				"    credentials: {type: clientSecret, clientId: %s, clientSecretEnv: %s}\n",
				k, setup.ACRRegistries[k], acrTenant, setup.AuthorityHost, acrClientID(i), acrSecretEnv(i))
		}
	}
	return b.String(), nil
}

// Scaling of the per-hour window. The real daemon runs on the wall clock,
// so the fakes issue tokens whose lifetimes are the clouds' divided by
// TimeScale, and one real hour of the clouds is TimeScale times shorter.
const (
	// TimeScale divides every token lifetime: 300 makes an hour 12 s.
	TimeScale = 300
	// ScaledWindow is how long (in the clouds' time) the requests are
	// counted after every registry is ready: 8 h, 96 s here, so that every
	// ECR pair (12 h tokens, refreshed at 40–60% of their life) refreshes
	// once in it.
	ScaledWindow = 8 * time.Hour
	// msalMargin is how long before its expiry MSAL stops reusing a cached
	// Entra ID token (storage.AccessToken.Validate in
	// microsoft-authentication-library-for-go). It is wall-clock time that
	// no scale changes, so the Entra token's lifetime is this plus the
	// scaled reusable part.
	msalMargin = 5 * time.Minute
)

// Cloud token lifetimes, as the clouds issue them (clouds.md).
const (
	ecrLifetime        = 12 * time.Hour // ECR authorization token
	garLifetime        = time.Hour      // Google access token
	acrRefreshLifetime = 3 * time.Hour  // ACR refresh token
	entraLifetime      = time.Hour      // Entra ID access token
)

// scaled is d in the benchmark's wall-clock time.
func scaled(d time.Duration) time.Duration { return d / TimeScale }

// entraScaledLifetime is the Entra ID token lifetime the fake issues: MSAL
// reuses a token until msalMargin before it expires, so the part it reuses
// (55 min of a 1 h token) is scaled and the margin kept as it is.
func entraScaledLifetime() time.Duration { return msalMargin + scaled(entraLifetime-msalMargin) }

// TokenCount is what one fake saw of one kind of token request for one
// identity.
type TokenCount struct {
	// Cloud is "ECR", "GAR" or "ACR"; Identity the access key id, service
	// account or client id; Request what is counted (e.g.
	// "GetAuthorizationToken").
	Cloud, Identity, Request string
	// Units is how many distinct things the requests were for at start:
	// regions (ECR), registries (ACR exchange), else 1.
	Units int
	// Start is the requests made until every registry was ready; Window
	// those made after, within the scaled window.
	Start, Window int
	// PerHour is the requests per real hour in steady state: for each
	// unit, its requests after its first divided by the (real) time from
	// its first to its last; summed over the identity's units. 0 when no
	// unit had a second request.
	PerHour float64
	// Failed is how many of the requests were answered with an error.
	Failed int
}

// CloudTokensResult is what the three fakes saw a real `ocicred daemon` ask
// on a MixedFleet.
type CloudTokensResult struct {
	Fleet MixedFleet
	// Ready is from the daemon's start until status showed every registry
	// ready; Window the wall-clock time counted after that.
	Ready, Window time.Duration
	Counts        []TokenCount
}

// request is one token request a fake saw, reduced to what is counted.
type request struct {
	cloud, identity, kind, unit string
	at                          time.Time
	failed                      bool
}

// tally counts reqs (made from start on; ready is when every registry was
// ready) into one TokenCount per (cloud, identity, kind), in first-seen
// order.
func tally(reqs []request, ready time.Time) []TokenCount {
	type key struct{ cloud, identity, kind string }
	var order []key
	units := map[key]map[string][]time.Time{} // every request's time, by unit
	after := map[key]map[string]int{}         // requests after ready, by unit
	counts := map[key]*TokenCount{}
	for _, r := range reqs {
		k := key{r.cloud, r.identity, r.kind}
		c := counts[k]
		if c == nil {
			c = &TokenCount{Cloud: r.cloud, Identity: r.identity, Request: r.kind}
			counts[k], units[k], after[k] = c, map[string][]time.Time{}, map[string]int{}
			order = append(order, k)
		}
		if r.at.After(ready) {
			c.Window++
			after[k][r.unit]++
		} else {
			c.Start++
			if len(units[k][r.unit]) == 0 {
				c.Units++
			}
		}
		if r.failed {
			c.Failed++
		}
		units[k][r.unit] = append(units[k][r.unit], r.at)
	}
	out := make([]TokenCount, 0, len(order))
	for _, k := range order {
		c := counts[k]
		for unit, times := range units[k] {
			c.PerHour += perRealHour(after[k][unit], times)
		}
		out = append(out, *c)
	}
	slices.SortStableFunc(out, func(a, b TokenCount) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a.Identity, b.Identity))
	})
	return out
}

// rank orders counts by cloud (ECR, GAR, ACR) and request, those the
// model does not know last.
func rank(c TokenCount) int {
	for i, kind := range []string{reqECR, reqGoogle, reqEntra, reqExchange, reqOpenID} {
		if c.Request == kind {
			return i
		}
	}
	return 100
}

// perRealHour is one unit's steady request rate, per hour of the clouds'
// time: its n requests after ready over the time from its first request
// to its last (times, in order), scaled back. 0 when n is 0.
func perRealHour(n int, times []time.Time) float64 {
	if n == 0 || len(times) < 2 {
		return 0
	}
	span := times[len(times)-1].Sub(times[0]) * TimeScale
	if span <= 0 {
		return 0
	}
	return float64(n) / span.Hours()
}

// Lines are the result as plain lines, one per identity and request.
func (r *CloudTokensResult) Lines() []string {
	lines := []string{fmt.Sprintf("token requests, real daemon, %s: all ready %s after start; lifetimes / %d, %s counted (%s of the clouds' time)",
		r.Fleet, r.Ready.Round(time.Millisecond), TimeScale, r.Window.Round(time.Second), hours(ScaledWindow))}
	for _, c := range r.Counts {
		line := fmt.Sprintf("  %s %s %s: %d at start for %d %s, %d in the window, %.2f per hour",
			c.Cloud, c.Identity, c.Request, c.Start, c.Units, unitName(c), c.Window, c.PerHour)
		if c.Failed > 0 {
			line += fmt.Sprintf(", %d failed", c.Failed)
		}
		lines = append(lines, line)
	}
	return lines
}

// unitName says what a count's units are.
func unitName(c TokenCount) string {
	switch {
	case c.Cloud == "ECR":
		return "regions"
	case c.Cloud == "ACR" && c.Request == reqExchange:
		return "registries"
	case c.Request == reqOpenID:
		return "tenant"
	}
	return "identity"
}

// Request kinds, as TokenCount.Request names them.
const (
	reqECR      = "GetAuthorizationToken"
	reqGoogle   = "token (JWT-bearer grant)"
	reqEntra    = "Entra ID token"
	reqOpenID   = "Entra ID openid-configuration"
	reqExchange = "ACR /oauth2/exchange"
)

// hostOf is a URL's host:port ("" when it does not parse).
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}
