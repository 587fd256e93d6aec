package bench

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/cloudhost"
)

// testSetup is a MixedSetup for DefaultMixed that names files and fronts
// nobody opens.
func testSetup() MixedSetup {
	s := MixedSetup{AuthorityHost: "https://127.0.0.1:4443/"}
	for i := range DefaultMixed.GARIdentities {
		s.GARKeyFiles = append(s.GARKeyFiles, fmt.Sprintf("/keys/gar-%d.json", i))
	}
	for i := range DefaultMixed.ACR() {
		s.ACRRegistries = append(s.ACRRegistries, fmt.Sprintf("http://127.0.0.1:%d", 20000+i))
	}
	return s
}

func TestMixedConfigIsTheFleet(t *testing.T) {
	text, err := DefaultMixed.Config(testSetup())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte(text), "mixed.yaml")
	if err != nil {
		t.Fatalf("the mixed config does not parse: %v", err)
	}
	byType, hosts := map[string]int{}, map[string]bool{}
	ecrPairs := map[string]bool{}
	for _, r := range cfg.Registries {
		byType[r.Type]++
		if hosts[r.Host] {
			t.Errorf("host %s twice", r.Host)
		}
		hosts[r.Host] = true
		switch r.Type {
		case config.TypeGAR:
			if !cloudhost.Google(r.Host) {
				t.Errorf("GAR registry %s at %s, not a real Google host", r.Name, r.Host)
			}
		case config.TypeECR:
			ecrPairs[r.Credentials.AccessKeyID+"/"+r.ECR.Region] = true
		}
	}
	want := map[string]int{config.TypeECR: 40, config.TypeGAR: 30, config.TypeACR: 30}
	for typ, n := range want {
		if byType[typ] != n {
			t.Errorf("%d %s registries, want %d", byType[typ], typ, n)
		}
	}
	if len(ecrPairs) != 8 {
		t.Errorf("%d ECR (identity, region) pairs, want 8", len(ecrPairs))
	}
	if _, err := DefaultMixed.Config(MixedSetup{}); err == nil {
		t.Error("a setup with no key files or fronts renders a config")
	}
}

func TestTally(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ready := t0.Add(time.Second)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// One identity, two regions: both at start, one refresh each 72 s
	// (6 h of the clouds' time at TimeScale 300) later.
	reqs := []request{
		{cloud: "ECR", identity: "A", kind: reqECR, unit: "r1", at: at(0)},
		{cloud: "ECR", identity: "A", kind: reqECR, unit: "r2", at: at(0)},
		{cloud: "ECR", identity: "A", kind: reqECR, unit: "r1", at: at(72 * time.Second)},
		{cloud: "ECR", identity: "A", kind: reqECR, unit: "r2", at: at(72 * time.Second), failed: true},
		// Three at start and none after: no rate.
		{cloud: "ACR", identity: "T", kind: reqOpenID, unit: "T", at: at(0)},
		{cloud: "ACR", identity: "T", kind: reqOpenID, unit: "T", at: at(time.Millisecond)},
		{cloud: "ACR", identity: "T", kind: reqOpenID, unit: "T", at: at(2 * time.Millisecond)},
		{cloud: "GAR", identity: "G", kind: reqGoogle, unit: "G", at: at(0)},
	}
	for i := 1; i <= 4; i++ { // every 6 s: 30 min of the clouds' time
		reqs = append(reqs, request{cloud: "GAR", identity: "G", kind: reqGoogle, unit: "G", at: at(time.Duration(i) * 6 * time.Second)})
	}
	got := tally(reqs, ready)
	if len(got) != 3 {
		t.Fatalf("%d counts, want 3: %+v", len(got), got)
	}
	ecr, gar, openid := got[0], got[1], got[2]
	if ecr.Cloud != "ECR" || gar.Cloud != "GAR" || openid.Request != reqOpenID {
		t.Fatalf("order %s %s %s, want ECR, GAR, then the openid-configuration", ecr.Cloud, gar.Cloud, openid.Request)
	}
	if ecr.Start != 2 || ecr.Units != 2 || ecr.Window != 2 || ecr.Failed != 1 || !near(ecr.PerHour, 2.0/6) {
		t.Errorf("ECR %+v, want 2 at start for 2 regions, 2 after, 1 failed, 1/3 per hour", ecr)
	}
	if gar.Start != 1 || gar.Window != 4 || !near(gar.PerHour, 2) {
		t.Errorf("GAR %+v, want 1 at start, 4 after, 2 per hour", gar)
	}
	if openid.Start != 3 || openid.Units != 1 || openid.PerHour != 0 {
		t.Errorf("openid-configuration %+v, want 3 at start, no rate", openid)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestExpectedIsTheModel(t *testing.T) {
	m := DefaultMixed
	for _, c := range []struct {
		count TokenCount
		want  Expected
	}{
		{TokenCount{Cloud: "ECR", Request: reqECR}, Expected{Start: 2, PerHour: 2.0 / 6, Known: true}},
		{TokenCount{Cloud: "GAR", Request: reqGoogle}, Expected{Start: 1, PerHour: 2, Known: true}},
		{TokenCount{Cloud: "ACR", Request: reqEntra}, Expected{Start: 1, Known: true}},
		{TokenCount{Cloud: "ACR", Request: reqExchange}, Expected{Start: 10, PerHour: 10 / 1.5, Known: true}},
		{TokenCount{Cloud: "ACR", Request: reqOpenID}, Expected{}},
	} {
		got := ExpectedFor(c.count, m)
		if got.Start != c.want.Start || got.Known != c.want.Known || !near(got.PerHour, c.want.PerHour) {
			t.Errorf("%s %s: %+v, want %+v", c.count.Cloud, c.count.Request, got, c.want)
		}
	}
}

// TestCloudReportHasNoSecret: the figures name identities (access key
// ids, service accounts, client ids), never a secret of theirs.
func TestCloudReportHasNoSecret(t *testing.T) {
	text, err := DefaultMixed.Config(testSetup())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, benchSecretKey) {
		t.Fatal("the config holds no secret key: the test below would prove nothing")
	}
	t0 := time.Now()
	f := &Figures{Clouds: &CloudTokensResult{Fleet: DefaultMixed, Counts: tally([]request{
		{cloud: "ECR", identity: ecrKeyID(0), kind: reqECR, unit: "us-east-1", at: t0},
		{cloud: "ACR", identity: acrClientID(0), kind: reqEntra, unit: acrClientID(0), at: t0},
	}, t0)}, ECRLoginSkipped: "go install: exit status 1"}
	out := strings.Join(f.Lines(), "\n") + f.Markdown()
	for _, s := range []string{benchSecretKey, "bench-acr-secret-"} {
		if strings.Contains(out, s) {
			t.Errorf("the report holds a secret (%s…)", s[:5])
		}
	}
	for _, s := range []string{ecrKeyID(0), acrClientID(0), "not measured"} {
		if !strings.Contains(out, s) {
			t.Errorf("the report does not name %s", s)
		}
	}
}
