package gcpfake

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// metadataPrefix is the path of every metadata value the server answers.
const metadataPrefix = "/computeMetadata/v1/"

// serveMetadataRoot answers the OnGCE probe (GET /), which looks only for
// the Metadata-Flavor answer header.
func (s *Server) serveMetadataRoot(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Metadata-Flavor", "Google")
	w.WriteHeader(http.StatusOK)
}

// serveMetadata answers /computeMetadata/v1/... as the GCE metadata server
// does: only with the header Metadata-Flavor: Google (403 without), which
// it echoes; text values, and JSON for the token and ?alt=json.
func (s *Server) serveMetadata(w http.ResponseWriter, r *http.Request) {
	c := Call{Endpoint: EndpointMetadata, Path: r.URL.Path, MetadataFlavor: r.Header.Get("Metadata-Flavor"), Time: s.opts.now()}
	c.Fault = s.takeFault(EndpointMetadata)
	w.Header().Set("Metadata-Flavor", "Google")
	if !s.preFault(w, r, &c, metadataWireError) {
		return
	}
	c.Status, c.Error = s.metadata(w, r, &c)
	s.record(c)
}

// metadataWireError is the metadata server's plain-text error answer.
func metadataWireError(w http.ResponseWriter, status int, msg string) string {
	http.Error(w, msg, status)
	return http.StatusText(status)
}

// metadata answers one metadata request and returns the status and error sent.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request, c *Call) (int, string) {
	if r.Header.Get("Metadata-Flavor") != "Google" {
		return http.StatusForbidden, metadataWireError(w, http.StatusForbidden,
			"Missing required header \"Metadata-Flavor\": \"Google\"")
	}
	if r.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, metadataWireError(w, http.StatusMethodNotAllowed, "Method not allowed")
	}
	s.mu.Lock()
	account, accountScopes := s.state.metaSA, s.state.metaSc
	s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, metadataPrefix)
	if path == "project/project-id" {
		return text(w, s.opts.projectID)
	}
	rest, ok := strings.CutPrefix(path, "instance/service-accounts/")
	if !ok {
		return http.StatusNotFound, metadataWireError(w, http.StatusNotFound, "Not Found")
	}
	name, value, _ := strings.Cut(rest, "/")
	if account == "" || c.Fault == NotFound || (name != "default" && name != account) {
		return http.StatusNotFound, metadataWireError(w, http.StatusNotFound, "Not Found")
	}
	c.Principal = account
	switch value {
	case "email":
		return text(w, account)
	case "scopes":
		if r.URL.Query().Get("alt") == "json" {
			writeJSON(w, http.StatusOK, accountScopes)
			return http.StatusOK, ""
		}
		return text(w, strings.Join(accountScopes, "\n")+"\n")
	case "token":
		return s.metadataToken(w, r, c, accountScopes)
	}
	return http.StatusNotFound, metadataWireError(w, http.StatusNotFound, "Not Found")
}

// metadataToken issues the instance account's access token, for the
// scopes asked for (comma-separated) or the instance's access scopes.
func (s *Server) metadataToken(w http.ResponseWriter, r *http.Request, c *Call, accountScopes []string) (int, string) {
	scopes := accountScopes
	if q := r.URL.Query().Get("scopes"); q != "" {
		scopes = strings.Split(q, ",")
		c.Scopes = scopes
	}
	life := s.lifetimeFor(c.Fault)
	tok := s.issueToken(c.Principal, scopes, life)
	writeJSON(w, http.StatusOK, tokenAnswer{AccessToken: tok, ExpiresIn: int64(life / time.Second), TokenType: "Bearer"})
	return http.StatusOK, ""
}

// text sends a plain-text metadata value.
func text(w http.ResponseWriter, v string) (int, string) {
	w.Header().Set("Content-Type", "application/text")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, v)
	return http.StatusOK, ""
}
