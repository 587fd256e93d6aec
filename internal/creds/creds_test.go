package creds

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/secret"
)

const cfgText = `registries:
  - {name: open, type: basic, endpoint: open.example, username: u, password: pw}
  - {name: closed, type: basic, endpoint: closed.example, username: u, password: pw, allow: ["4242"]}
  - {name: ecr, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}
  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}
`

func load(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(cfgText), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ResolveSecrets(config.OS); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMatch(t *testing.T) {
	c := load(t)
	me := access.Caller{UID: 1000, GIDs: []int{1000}}
	tests := []struct {
		addr, name string
		err        error
	}{
		{"open.example", "open", nil},
		{"https://OPEN.example/v2/", "open", nil},
		{"closed.example", "closed", ErrRefused},
		{"public.ecr.aws", "pub", ErrNotFound},
		{"other.example", "", ErrNotFound},
		{"not a host", "", config.ErrBadAddress},
	}
	for _, tt := range tests {
		reg, err := Match(c, me, tt.addr)
		name := ""
		if reg != nil {
			name = reg.Name
		}
		if name != tt.name || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Match(%q) = %q, %v; want %q, %v", tt.addr, name, err, tt.name, tt.err)
		}
	}
	if !errors.Is(ErrRefused, ErrNotFound) {
		t.Error("a refusal must look like not-found to the caller")
	}
	if reg, err := Match(c, access.Caller{UID: 4242}, "closed.example"); err != nil || reg.Name != "closed" {
		t.Errorf("allowed caller: %v, %v", reg, err)
	}
}

type tokens struct {
	tok Token
	err error
}

func (t tokens) Token(context.Context, *config.Registry) (Token, error) { return t.tok, t.err }

func TestGet(t *testing.T) {
	c := load(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	open, _ := c.Registry("open")
	ecr, _ := c.Registry("ecr")
	got, err := Get(context.Background(), open, nil, now)
	if err != nil || got.Username != "u" || got.Secret.Reveal() != "pw" || !got.ExpiresAt.IsZero() {
		t.Errorf("basic: %+v, %v", got, err)
	}
	fresh := tokens{tok: Token{Password: secret.New("t1"), ExpiresAt: now.Add(time.Hour)}}
	if got, err := Get(context.Background(), ecr, fresh, now); err != nil || got.Username != "AWS" || got.Secret.Reveal() != "t1" {
		t.Errorf("ecr: %+v, %v", got, err)
	}
	stale := tokens{tok: Token{Password: secret.New("t0"), ExpiresAt: now}}
	_, err = Get(context.Background(), ecr, stale, now)
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Registry != "ecr" || !strings.Contains(err.Error(), "registry ecr: token expired at 2026-01-01T00:00:00Z") {
		t.Errorf("an expired token was not refused: %v", err)
	}
	failing := tokens{err: errors.New("AccessDenied")}
	if _, err := Get(context.Background(), ecr, failing, now); err == nil || err.Error() != "registry ecr: AccessDenied" {
		t.Errorf("failing source: %v", err)
	}
	if _, err := Get(context.Background(), ecr, nil, now); !errors.As(err, &ue) {
		t.Errorf("no token source: %v", err)
	}
}

func TestList(t *testing.T) {
	c := load(t)
	got := List(c, access.Caller{UID: 1000})
	want := map[string]string{"open.example": "u", "123456789012.dkr.ecr.us-west-2.amazonaws.com": "AWS"}
	if len(got) != len(want) {
		t.Errorf("List = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("List[%s] = %q, want %q", k, got[k], v)
		}
	}
	if got := List(c, access.Caller{UID: 4242}); got["closed.example"] != "u" {
		t.Errorf("allowed caller's list lacks closed.example: %v", got)
	}
}

func TestCheckFresh(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := CheckFresh(Token{ExpiresAt: now.Add(time.Second)}, now); err != nil {
		t.Errorf("a token with a second left: %v", err)
	}
	for _, exp := range []time.Time{now, now.Add(-12 * time.Hour)} {
		err := CheckFresh(Token{ExpiresAt: exp}, now)
		if !errors.Is(err, ErrClockSkew) || !strings.Contains(err.Error(), "fix the clock") {
			t.Errorf("a token that expired at %s: %v", exp, err)
		}
	}
}
