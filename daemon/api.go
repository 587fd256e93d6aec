package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/access"
	"github.com/ocicred/ocicred/internal/creds"
	"github.com/ocicred/ocicred/internal/localapi"
)

// FirstTokenWait is how long a request waits for a registry's first token.
// While it waits, the daemon sends an interim 102 Processing, so that a
// client knows it is alive.
const FirstTokenWait = 10 * time.Second

func (d *Daemon) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+localapi.PathCredentials, d.admit(d.handleCredentials))
	mux.HandleFunc("GET "+localapi.PathList, d.admit(d.handleList))
	mux.HandleFunc("GET "+localapi.PathStatus, d.admit(d.handleStatus))
	return mux
}

type callerHandler func(w http.ResponseWriter, r *http.Request, c access.Caller)

// admit lets root, the daemon's own user and the socket group through, and
// refuses everyone else, including a caller whose identity is unknown.
func (d *Daemon) admit(next callerHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, ok := r.Context().Value(callerKey{}).(peerAddr)
		if !ok {
			res.err = errors.New("no caller for this request")
		}
		if res.err != nil || !d.mayAsk(res.caller) {
			d.log.Warn("refused caller", "uid", res.caller.UID, "pid", res.caller.PID, "path", r.URL.Path,
				"server", serverParam(r.URL), "registry", d.registryName(serverParam(r.URL)), "err", res.err)
			writeError(w, http.StatusForbidden, localapi.ErrorBody{Code: localapi.CodeForbidden,
				Error: "this user may not ask the ocicred daemon; ask an administrator to add it to the socket group"})
			return
		}
		if d.log.Enabled(r.Context(), slog.LevelDebug) { // the arguments alone cost an allocation per request
			d.log.Debug("request", "path", r.URL.Path, "uid", res.caller.UID, "pid", res.caller.PID)
		}
		next(w, r, res.caller)
	}
}

func (d *Daemon) mayAsk(c access.Caller) bool {
	return c.UID == 0 || c.UID == os.Getuid() || (d.sockGID >= 0 && c.InGroup(d.sockGID))
}

func (d *Daemon) handleCredentials(w http.ResponseWriter, r *http.Request, c access.Caller) {
	start := time.Now()
	result := d.answerCredentials(w, r, c)
	d.metrics.request(r.Header.Get(localapi.ClientHeader), result, time.Since(start))
}

// answerCredentials writes the answer and returns its result for metrics.
func (d *Daemon) answerCredentials(w http.ResponseWriter, r *http.Request, c access.Caller) string {
	server := serverParam(r.URL)
	st := d.state.Load()
	reg, err := creds.Match(st.cfg, c, server)
	switch {
	case errors.Is(err, config.ErrBadAddress):
		writeError(w, http.StatusBadRequest, localapi.ErrorBody{Code: localapi.CodeBadRequest, Error: err.Error()})
		return localapi.CodeBadRequest
	case errors.Is(err, creds.ErrRefused):
		d.log.Warn("refused caller", "uid", c.UID, "pid", c.PID, "registry", reg.Name, "reason", "not in allow")
		fallthrough
	case errors.Is(err, creds.ErrNotFound):
		writeError(w, http.StatusNotFound, localapi.ErrorBody{Code: localapi.CodeNotFound, Error: localapi.NotFoundMessage,
			Reason: creds.NotFoundReason(st.cfg, reg, err, server)})
		return localapi.CodeNotFound
	case r.Header.Get(localapi.ClientHeader) == localapi.ClientKubelet && !reg.ForNode():
		// The kubelet serves every pod on the node: allow would not hold.
		d.log.Info("kubelet plugin not given a registry that allow restricts", "registry", reg.Name, "reason", "nodeWide is not set")
		writeError(w, http.StatusNotFound, localapi.ErrorBody{Code: localapi.CodeNotFound, Error: localapi.NotFoundMessage})
		return localapi.CodeNotFound
	}
	if reg.IsProtected() && st.tokens.firstPending(reg) {
		// Alive, and waiting on AWS: clients with a short deadline for
		// dead daemons (localapi.DaemonDeadline) wait for this answer.
		w.WriteHeader(http.StatusProcessing)
	}
	ctx, cancel := context.WithTimeout(r.Context(), d.opts.FirstTokenWait)
	defer cancel()
	got, err := creds.Get(ctx, reg, st.tokens, d.opts.Clock.Now())
	if err != nil {
		d.log.Warn("no usable credentials", "registry", reg.Name, "err", err)
		writeError(w, http.StatusServiceUnavailable, localapi.ErrorBody{Code: localapi.CodeUnavailable, Registry: reg.Name, Error: err.Error()})
		return localapi.CodeUnavailable
	}
	writeJSON(w, http.StatusOK, localapi.CredentialsBody{
		Registry: reg.Name, Username: got.Username, Secret: got.Secret.Reveal(), ExpiresAt: got.ExpiresAt,
	})
	return "ok"
}

func (d *Daemon) handleList(w http.ResponseWriter, _ *http.Request, c access.Caller) {
	writeJSON(w, http.StatusOK, creds.List(d.state.Load().cfg, c))
}

func (d *Daemon) handleStatus(w http.ResponseWriter, _ *http.Request, _ access.Caller) {
	st := d.state.Load()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = writeStatus(w, st.cfg.File, d.ConfigError(), st.statuses())
}

// Status is what `ocicred status` shows.
func (d *Daemon) Status() localapi.Status {
	st := d.state.Load()
	return localapi.Status{Config: st.cfg.File, ConfigError: d.ConfigError(), Registries: slices.Collect(st.statuses())}
}

// statusBuffer is how much of a status answer writeStatus gathers before
// each write to the connection, in bytes.
const statusBuffer = 32 << 10

// writeStatus writes a localapi.Status as encoding/json writes it whole
// (json.NewEncoder(w).Encode: the same bytes, newline included), but a
// registry at a time, so that the answer is never held whole: for 10,000
// registries that was 2.5 MB, twice over while the buffer grew, on every
// status request, and encoding/json keeps its largest buffer for the next.
// The error is the connection's.
func writeStatus(w io.Writer, file, configError string, registries iter.Seq[localapi.RegistryStatus]) error {
	bw := bufio.NewWriterSize(w, statusBuffer)
	var one bytes.Buffer
	enc := json.NewEncoder(&one)
	put := func(prefix string, v any) error {
		one.Reset()
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, _ = bw.WriteString(prefix)
		_, err := bw.Write(bytes.TrimSuffix(one.Bytes(), []byte("\n")))
		return err
	}
	if err := put(`{"config":`, file); err != nil {
		return err
	}
	if err := put(`,"configError":`, configError); err != nil {
		return err
	}
	sep := `,"registries":[`
	for rs := range registries {
		if err := put(sep, rs); err != nil {
			return err
		}
		sep = ","
	}
	if sep != "," { // no registry
		_, _ = bw.WriteString(sep)
	}
	_, _ = bw.WriteString("]}\n")
	return bw.Flush()
}

// maxFastParams bounds the parameters serverParam reads itself; a query of
// more goes to url.ParseQuery, which has its own bound.
const maxFastParams = 64

// serverParam is u.Query().Get("server") without building the map of
// every parameter (a tenth of the daemon's time per answer): the value of
// the first server parameter that url.ParseQuery would keep (not empty,
// no semicolon, key and value unescape), unescaped; "" if there is none.
func serverParam(u *url.URL) string {
	q := u.RawQuery
	if strings.Count(q, "&") >= maxFastParams {
		return u.Query().Get("server")
	}
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if kv == "" || strings.Contains(kv, ";") {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(k); err != nil || k != "server" {
			continue
		}
		if v, err := url.QueryUnescape(v); err == nil {
			return v
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, body localapi.ErrorBody) { writeJSON(w, code, body) }

// registryName names the registry a server address belongs to, for logs.
func (d *Daemon) registryName(server string) string {
	if server == "" {
		return ""
	}
	if reg, ok := d.state.Load().cfg.Lookup(server); ok {
		return reg.Name
	}
	return ""
}
