// Package creds answers the one question every part of ocicred is asked:
// which credentials go with this server address, for this caller. The
// daemon answers from its token store; the daemon-less fallback from the
// config and its own token cache; both through Match and Get here, so they
// cannot drift apart.
package creds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/secret"
)

var (
	// ErrNotFound: the address is not managed, the registry is unprotected,
	// or the caller may not have it. The daemon maps it to the local API's
	// not_found (daemon/api.go); docker's own text for it is written only
	// where a process answers docker (the helper, `ocicred get`).
	ErrNotFound = errors.New("no credentials for this address: not managed, an unprotected registry, or not allowed")
	// ErrRefused is ErrNotFound for a caller that an allow list turned away;
	// the daemon logs it.
	ErrRefused = fmt.Errorf("caller not allowed: %w", ErrNotFound)
)

// Credentials are what a client sends to a registry.
type Credentials struct {
	Username string
	Secret   secret.Secret
	// ExpiresAt is when an ECR token stops working; zero for Basic.
	ExpiresAt time.Time
}

// UnavailableError: the registry is managed but has no usable credentials
// now. Its text names the registry and the reason, and is what the helper
// prints.
type UnavailableError struct {
	Registry string
	Err      error
}

func (e *UnavailableError) Error() string { return fmt.Sprintf("registry %s: %v", e.Registry, e.Err) }
func (e *UnavailableError) Unwrap() error { return e.Err }

// ErrClockSkew: a token was already expired when it arrived. Tokens last
// hours (ECR: 12 h), so the node's clock is ahead by more than that.
var ErrClockSkew = errors.New("the node's clock looks wrong")

// CheckFresh refuses a token that has just been issued and yet has expired
// by now. The error wraps ErrClockSkew and says what to check.
func CheckFresh(tok Token, now time.Time) error {
	if now.Before(tok.ExpiresAt) {
		return nil
	}
	return fmt.Errorf("%w: a token just issued expires at %s, but this node's time is already %s; fix the clock (timedatectl status, chronyc tracking)",
		ErrClockSkew, tok.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
}

// Token is a token registry's password (ECR, GAR or ACR) and when it
// expires.
type Token struct {
	Password  secret.Secret
	ExpiresAt time.Time
	// Skew is the issuer's clock minus this node's, where the token tells
	// (ACR: its iat against the local time it arrived); zero when unknown.
	Skew time.Duration
}

// Tokens gives the current token of a protected ECR registry.
type Tokens interface {
	Token(ctx context.Context, reg *config.Registry) (Token, error)
}

// Match finds the registry for addr that caller may have. It returns
// ErrNotFound for an unmanaged address or an unprotected registry,
// ErrRefused when an allow list turns the caller away (the registry is
// returned then, for the log), and config.ErrBadAddress for garbage.
func Match(cfg *config.Config, caller access.Caller, addr string) (*config.Registry, error) {
	if _, err := config.HostKey(addr); err != nil {
		return nil, err
	}
	reg, ok := cfg.Lookup(addr)
	if !ok {
		return nil, ErrNotFound
	}
	if !access.Allowed(reg.Allow, caller) {
		return reg, ErrRefused
	}
	if reg.Type == config.TypeECR && !reg.IsProtected() {
		return reg, ErrNotFound
	}
	return reg, nil
}

// NotFoundReason says, in one line, why Match gave err for host: reg and
// err are what Match returned. The daemon sends it with its not_found
// answer and the daemon-less path prints it, so `ocicred get` says the same
// with and without the daemon. It names no secret.
func NotFoundReason(cfg *config.Config, reg *config.Registry, err error, host string) string {
	switch {
	case errors.Is(err, ErrRefused) && reg != nil:
		return fmt.Sprintf("registry %s does not allow this user (allow: %v)", reg.Name, reg.Allow)
	case reg != nil:
		return fmt.Sprintf("registry %s is unprotected: clients pull anonymously", reg.Name)
	}
	return fmt.Sprintf("no registry in %s has the endpoint %s", cfg.File, host)
}

// Get returns the credentials of a matched registry. A Basic registry's
// secrets must have been resolved.
func Get(ctx context.Context, reg *config.Registry, tokens Tokens, now time.Time) (Credentials, error) {
	if reg.Type == config.TypeBasic {
		pw := reg.BasicPassword()
		if pw.IsZero() {
			return Credentials{}, &UnavailableError{Registry: reg.Name, Err: errors.New("password not loaded")}
		}
		return Credentials{Username: reg.Username, Secret: pw}, nil
	}
	if tokens == nil {
		return Credentials{}, &UnavailableError{Registry: reg.Name, Err: errors.New("no token source")}
	}
	tok, err := tokens.Token(ctx, reg)
	if err != nil {
		var ue *UnavailableError
		if errors.As(err, &ue) {
			return Credentials{}, err
		}
		return Credentials{}, &UnavailableError{Registry: reg.Name, Err: err}
	}
	if !now.Before(tok.ExpiresAt) {
		return Credentials{}, &UnavailableError{Registry: reg.Name, Err: fmt.Errorf("token expired at %s", tok.ExpiresAt.UTC().Format(time.RFC3339))}
	}
	return Credentials{Username: reg.User(), Secret: tok.Password, ExpiresAt: tok.ExpiresAt}, nil
}

// List maps the endpoint of every registry that caller may have and that
// has credentials to its user name: the helper protocol's list.
func List(cfg *config.Config, caller access.Caller) map[string]string {
	out := map[string]string{}
	for _, r := range cfg.Registries {
		if (r.Type == config.TypeBasic || r.IsProtected()) && access.Allowed(r.Allow, caller) {
			out[r.Host] = r.User()
		}
	}
	return out
}
