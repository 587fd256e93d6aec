package tokensource

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/ecrtoken"
	"github.com/ocicred/ocicred/internal/tokencache"
)

func parse(t *testing.T, y string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(y), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestKeysFollowTheCloudsRules(t *testing.T) {
	c := parse(t, `registries:
  - {name: a, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}
  - {name: b, type: ecr, endpoint: 123456789012.dkr-ecr.us-west-2.on.aws}
  - {name: c, type: ecr, endpoint: 123456789012.dkr.ecr.eu-west-1.amazonaws.com}
`)
	a, b, cc := c.Registries[0], c.Registries[1], c.Registries[2]
	if KeyOf(a) != KeyOf(b) {
		t.Error("two names of one ECR registry have two keys")
	}
	if KeyOf(a) == KeyOf(cc) {
		t.Error("two regions share a key")
	}
	if KeyOf(a) != Key(ecrtoken.KeyOf(a)) {
		t.Error("ECR keys changed: the token cache's file names depend on them")
	}
	if got := Representative([]*config.Registry{a, b}); got[0] != b {
		t.Errorf("Representative put %s first, want the dual-stack name", got[0].Name)
	}
	if name := tokencache.Name(string(KeyOf(a))); !strings.HasPrefix(name, "ecr-") {
		t.Errorf("cache file %s", name)
	}
}

func TestReason(t *testing.T) {
	for err, want := range map[error]string{
		&ecrtoken.Failure{Kind: ecrtoken.KindAccessDenied, Code: "AccessDeniedException"}: "AccessDeniedException",
		&ecrtoken.Failure{Kind: ecrtoken.KindNoCredentials}:                               "NoCredentials",
		context.DeadlineExceeded: "timeout",
		creds.ErrClockSkew:       "clock_skew",
		errors.New("x"):          "other",
	} {
		if got := Reason(err); got != want {
			t.Errorf("Reason(%v) = %q, want %q", err, got, want)
		}
	}
}

func TestFetchCountsEveryRequest(t *testing.T) {
	var got []string
	f := NewFetcher(Options{OnFetch: func(typ string, err error) { got = append(got, typ) }})
	reg := &config.Registry{Name: "x", Type: "other"}
	if _, err := f.Fetch(context.Background(), reg); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Fetch of an unknown type = %v, want ErrUnsupported", err)
	}
	if len(got) != 1 || got[0] != "other" {
		t.Errorf("OnFetch heard %v", got)
	}
}
