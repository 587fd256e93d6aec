package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/ocicred/ocicred/daemon"
)

// Expected is what the token engine should ask for one TokenCount's
// identity and request: Start requests until every registry is ready, and
// about PerHour in steady state (each unit refreshed at
// daemon.RefreshFraction of its token's life). Known is false for a
// request the model does not predict.
type Expected struct {
	Start   int
	PerHour float64
	Known   bool
}

// ExpectedFor is the model of issue 16 for c on fleet m: ECR one
// GetAuthorizationToken per (identity, region); GAR one token request per
// identity (one token serves every Google host); ACR one Entra ID token per
// identity and one exchange per (identity, registry), since a refresh
// token is bound to one registry. Entra ID tokens after the start have no
// fixed rate (MSAL reuses one for 55 of its 60 minutes, across the
// identity's registries, whose refreshes drift apart): PerHour is 0 there.
func ExpectedFor(c TokenCount, m MixedFleet) Expected {
	every := func(life time.Duration) float64 { return 1 / (daemon.RefreshFraction * life.Hours()) }
	switch {
	case c.Cloud == "ECR" && c.Request == reqECR:
		return Expected{Start: len(m.ECRRegions), PerHour: float64(len(m.ECRRegions)) * every(ecrLifetime), Known: true}
	case c.Cloud == "GAR" && c.Request == reqGoogle:
		return Expected{Start: 1, PerHour: every(garLifetime), Known: true}
	case c.Cloud == "ACR" && c.Request == reqEntra:
		return Expected{Start: 1, Known: true}
	case c.Cloud == "ACR" && c.Request == reqExchange:
		return Expected{Start: m.ACRPerIdentity, PerHour: float64(m.ACRPerIdentity) * every(acrRefreshLifetime), Known: true}
	}
	return Expected{}
}

// cloudsMarkdown is BENCHMARKS.md's section on the mixed fleet's token
// requests and the ECR helper comparison; "" when neither was measured.
func (f *Figures) cloudsMarkdown() string {
	var b strings.Builder
	if len(f.ECRLogin) > 0 || f.ECRLoginSkipped != "" {
		b.WriteString("## docker-credential-ecr-login beside ocicred's helper\n\n")
		if f.ECRLoginSkipped != "" {
			fmt.Fprintf(&b, "Not measured: it did not build here.\n\n```\n%s\n```\n\n", strings.TrimSpace(f.ECRLoginSkipped))
		} else {
			b.WriteString("| program (warm `get`, whole process) | median | p95 | runs | / floor | size |\n|---|---|---|---|---|---|\n")
			row := func(name string, s Sample, mib float64) {
				if len(s) == 0 {
					return
				}
				r := "–"
				if len(f.Floor) > 0 {
					r = fmt.Sprintf("%.2fx", ratio(s.Median(), f.Floor.Median()))
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %.1f MiB |\n", name, ms(s.Median()), ms(s.Percentile(95)), len(s), r, mib)
			}
			row("floor (hello world)", f.Floor, f.FloorMiB)
			row("`docker-credential-ocicred get` (daemon up)", f.Helper, f.HelperMiB)
			row("`docker-credential-ecr-login get` v0.12.0 (its file cache)", f.ECRLogin, f.ECRLoginMiB)
			b.WriteString("\n")
		}
	}
	r := f.Clouds
	if r == nil {
		return b.String()
	}
	fmt.Fprintf(&b, "## Token requests per identity, %d-registry mixed config\n\n", r.Fleet.ECR()+r.Fleet.GAR()+r.Fleet.ACR())
	fmt.Fprintf(&b, "%s. The real daemon was ready %s after its start; the requests were then counted for %s "+
		"of wall-clock time, %s of the clouds' time (every lifetime divided by %d; see Method).\n\n",
		r.Fleet, r.Ready.Round(time.Millisecond), r.Window.Round(time.Second), hours(ScaledWindow), TimeScale)
	b.WriteString("| cloud | identity | request | at start | expected at start | in the window | per hour | expected per hour | start as expected |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Counts {
		e := ExpectedFor(c, r.Fleet)
		wantStart, wantHour, met := "not predicted", "–", "–"
		if e.Known {
			wantStart, met = fmt.Sprint(e.Start), yes(c.Start == e.Start)
			if e.PerHour > 0 {
				wantHour = fmt.Sprintf("%.2f", e.PerHour)
			}
		}
		got := fmt.Sprint(c.Start)
		if c.Failed > 0 {
			got += fmt.Sprintf(" (%d failed)", c.Failed)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %.2f | %s | %s |\n",
			c.Cloud, c.Identity, c.Request, got, wantStart, c.Window, c.PerHour, wantHour, met)
	}
	b.WriteString("\n")
	return b.String()
}

const cloudsMethods = `- **docker-credential-ecr-login** (BenchmarkGetECRLogin). Amazon's helper
  v0.12.0, ` + "`go install`" + `ed from the Go module proxy in the same run with the
  same flags, asked ` + "`get`" + ` for ` + ECRLoginServer + ` (a real ECR host
  name: it takes the account and region from it) with the stage's access key, its
  AWS calls at the stage's awsfake (AWS_ENDPOINT_URL_ECR) and its file cache
  (AWS_ECR_CACHE_DIR) in its own folder, filled by the untimed first run; the
  timed runs make no AWS call (checked). Timed like BenchmarkGet, in the same run and on its stage.
- **Token requests, mixed config** (BenchmarkCloudTokens). The ` + "`ocicred daemon`" + `
  binary on 100 registries: 40 ECR at real host names (4 access keys × 2
  regions × 5 accounts; the AWS API at awsfake through AWS_ENDPOINT_URL_ECR),
  30 GAR at real Google host names (3 service-account keys × 10 hosts; the keys'
  token_uri is gcpfake, no registry host is contacted), 30 ACR (3 client-secret
  applications × 10 registries, each registry an azfake front on loopback,
  Entra ID over TLS at azfake with AZURE_AUTHORITY_HOST, SSL_CERT_FILE, the
  config's authorityHost and disableInstanceDiscovery). "At start" is every
  request the fakes saw until ` + "`status`" + ` first showed all 100 registries ready.
  For the hourly figure the fakes issue tokens whose lifetimes are the clouds'
  divided by the scale (ECR 12 h, Google 1 h, ACR refresh token 3 h), and the
  requests are counted for 8 h of the clouds' time after ready. The Entra ID
  token is the one exception: MSAL stops reusing a cached token 5 minutes before
  it expires, in wall-clock time, so its lifetime is those 5 minutes plus the
  scaled 55 minutes it is reused for. "Per hour" is, for each thing a request is
  for (an identity and region; an identity; an identity and registry), its
  requests after the first divided by the time from its first to its last, in
  the clouds' hours, summed per identity: one over the mean refresh interval,
  which a window edge does not bias (requests made at start count only
  as the first). "Expected per hour" is what refreshing at
  half of each token's life gives. The Entra ID openid-configuration requests
  are MSAL's discovery of the authority, once per credential.
`
