package resolve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/cachedir"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
)

// Options say where to look and whom to answer; the zero value of each
// field is a valid choice except ConfigPath and Socket.
type Options struct {
	ConfigPath string // the config file the daemon-less answer reads
	Socket     string // the daemon's socket
	SkipSocket string // a socket the helper found silent: not asked again
	ClientName string // what the daemon's metrics count the caller as (localapi.Client*)
	// Quiet keeps on Stderr only what the user must fix, not where each
	// token came from (the helper's fallback).
	Quiet  bool
	Stderr io.Writer // where the daemon-less token source reports; nil discards
}

// Answer is the credentials for a host and why they are so.
type Answer struct {
	User, Secret string
	ExpiresAt    time.Time // zero for Basic credentials
	Reason       string    // one line for stderr; set on errors too
}

// Resolve answers like the helper: from the daemon, else (or with
// noDaemon) from the config file. The error is creds.ErrNotFound (with
// Answer.Reason saying why), or one line naming the registry and what is
// wrong; an invalid host is config.HostKey's error.
func Resolve(ctx context.Context, opts Options, host string, noDaemon bool) (Answer, error) {
	if _, err := config.HostKey(host); err != nil {
		return Answer{}, err
	}
	if noDaemon {
		return Local(ctx, opts, host, "")
	}
	sock := opts.Socket
	if sock == opts.SkipSocket {
		return Local(ctx, opts, host, fmt.Sprintf("the daemon at %s gave no answer; answered from %s", sock, opts.ConfigPath))
	}
	client := localapi.NewClient(sock)
	client.Name = opts.ClientName
	client.Deadline = localapi.DaemonDeadline
	got, err := client.Credentials(ctx, host)
	switch {
	case err == nil:
		return Answer{User: got.Username, Secret: got.Secret, ExpiresAt: got.ExpiresAt,
			Reason: "registry " + got.Registry + ": credentials from the daemon"}, nil
	case errors.Is(err, localapi.ErrNotFound): // the wire's not_found, back to the domain's
		var nf *localapi.NotFoundError
		if errors.As(err, &nf) {
			return Answer{Reason: "the daemon: " + nf.Reason}, creds.ErrNotFound
		}
		return Answer{Reason: host + " is not managed by ocicred, is an unprotected registry, or is not allowed for this user"}, creds.ErrNotFound
	case errors.Is(err, localapi.ErrUnreachable):
		return Local(ctx, opts, host, fmt.Sprintf("%v at %s; answered from %s", err, sock, opts.ConfigPath))
	}
	return Answer{}, err
}

// localTimeout bounds the daemon-less answer's cloud work, so that a helper
// call (a second at most to find the daemon gone, then this) ends within
// 5 s, the contract's bound (spec, "Operating it").
const localTimeout = 4 * time.Second

// Local answers without the daemon, from what this user can read of
// opts.ConfigPath; why, when not empty, starts the reason (why the daemon
// was not asked). Errors are as Resolve's.
func Local(ctx context.Context, opts Options, host, why string) (Answer, error) {
	prefix := ""
	if why != "" {
		prefix = why + ": "
	}
	// Stamped before reading: an edit in between makes the record stale,
	// never a new file's stamp on an old file's answer.
	cfgStamp, stampErr := cachedir.StampFile(opts.ConfigPath)
	cfg, err := config.Read(opts.ConfigPath)
	if err != nil {
		return Answer{Reason: prefix + "cannot read the config, so nothing is managed for this user: " + err.Error()}, creds.ErrNotFound
	}
	reg, err := creds.Match(cfg, access.Self(), host)
	switch {
	case err != nil:
		return Answer{Reason: prefix + creds.NotFoundReason(cfg, reg, err, host)}, err
	case opts.ClientName == localapi.ClientKubelet && !reg.ForNode():
		return Answer{Reason: fmt.Sprintf("%sregistry %s: %s", prefix, reg.Name, config.NodeWideNote)}, creds.ErrNotFound
	}
	rec := newRecord(reg, cfg, cfgStamp, stampErr)
	if err := reg.ResolveSecrets(config.OS); err != nil {
		return Answer{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, localTimeout)
	defer cancel()
	tokens := localTokens(opts)
	got, err := creds.Get(ctx, reg, tokens, time.Now())
	if err != nil {
		return Answer{}, err
	}
	tokens.record(rec, reg, host)
	return Answer{User: got.Username, Secret: got.Secret.Reveal(), ExpiresAt: got.ExpiresAt,
		Reason: prefix + "registry " + reg.Name + ": credentials worked out without the daemon"}, nil
}
