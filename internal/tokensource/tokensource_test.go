package tokensource

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/acrtoken"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/ecrtoken"
	"github.com/ocicred/ocicred/internal/gartoken"
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

func TestGARKeysServeEveryGoogleHost(t *testing.T) {
	c := parse(t, `registries:
  - {name: a, type: gar, endpoint: gcr.io}
  - {name: b, type: gar, endpoint: europe-west3-docker.pkg.dev}
  - {name: c, type: gar, endpoint: docker.us-central1.rep.pkg.dev, credentials: {type: workloadIdentity, configFile: /etc/wif.json}}
`)
	a, b, cc := c.Registries[0], c.Registries[1], c.Registries[2]
	if KeyOf(a) != KeyOf(b) {
		t.Error("one Google identity has two keys for two hosts: a Google access token serves every registry host")
	}
	if KeyOf(a) == KeyOf(cc) {
		t.Error("two Google identities share a key")
	}
	if !strings.HasPrefix(tokencache.Name(string(KeyOf(a))), "gar-") {
		t.Errorf("GAR cache file %s", tokencache.Name(string(KeyOf(a))))
	}
}

func TestACRKeysAreBoundToTheRegistry(t *testing.T) {
	c := parse(t, `registries:
  - {name: a, type: acr, endpoint: contoso.azurecr.io, credentials: {type: managedIdentity}}
  - {name: b, type: acr, endpoint: fabrikam.azurecr.io, credentials: {type: managedIdentity}}
  - {name: c, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}
`)
	a, b := c.Registries[0], c.Registries[1]
	if KeyOf(a) == KeyOf(b) {
		t.Error("two ACR registries share a key: an ACR refresh token is bound to one registry")
	}
	if !strings.HasPrefix(string(KeyOf(a)), "acr:") || !strings.HasPrefix(tokencache.Name(string(KeyOf(a))), "acr-") {
		t.Errorf("ACR key %s, cache file %s", KeyOf(a), tokencache.Name(string(KeyOf(a))))
	}
	if d := Describe(a); !strings.Contains(d, "managedIdentity") {
		t.Errorf("Describe = %q", d)
	}
}

func TestReason(t *testing.T) {
	for err, want := range map[error]string{
		&ecrtoken.Failure{Kind: ecrtoken.KindAccessDenied, Code: "AccessDeniedException"}: "AccessDeniedException",
		&ecrtoken.Failure{Kind: ecrtoken.KindNoCredentials}:                               "NoCredentials",
		context.DeadlineExceeded: "timeout",
		creds.ErrClockSkew:       "clock_skew",
		errors.New("x"):          "other",
		&acrtoken.Failure{Kind: acrtoken.KindBadSecret, Code: "AADSTS7000215"}: "AADSTS7000215",
		&acrtoken.Failure{Kind: acrtoken.KindNoCredentials}:                    "NoCredentials",
		&acrtoken.Failure{Kind: acrtoken.KindClockSkew}:                        "clock_skew",
		&acrtoken.Failure{Kind: acrtoken.KindUnreachable}:                      "other",
		&gartoken.Failure{Kind: gartoken.KindRejected, Code: "invalid_grant"}:  "invalid_grant",
		&gartoken.Failure{Kind: gartoken.KindNoCredentials}:                    "NoCredentials",
		&gartoken.Failure{Kind: gartoken.KindClockSkew}:                        "clock_skew",
		// A cloud's failure with no label of its own, wrapped, falls to the generic ones.
		fmt.Errorf("refresh: %w", &ecrtoken.Failure{Kind: ecrtoken.KindUnreachable, Msg: "x"}): "other",
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
