package awsfake

import (
	"context"
	"io"
	"net/http"
	"net/url"
)

// maxBody bounds request bodies; real ones are a few hundred bytes.
const maxBody = 1 << 20

// request is one parsed API call.
type request struct {
	proto        protocol
	call         Call
	sessionToken string        // X-Amz-Security-Token, checked for temporary keys
	signed       signedRequest // what the SigV4 signature covers
	key          *signingKey   // the signer's key, nil when unknown (set by identify)
	form         url.Values    // STS parameters
	err          *apiError     // set when the request is malformed
}

// actionFunc answers a well-formed, authorised request.
type actionFunc func(s *Server, req *request) (any, *apiError)

// actions maps "service:Action" to its answer.
var actions = map[string]actionFunc{
	ECRGetAuthorizationToken:       (*Server).ecrToken,
	ECRPublicGetAuthorizationToken: (*Server).ecrPublicToken,
	STSAssumeRole:                  (*Server).assumeRole,
	STSAssumeRoleWithWebIdentity:   (*Server).assumeRoleWithWebIdentity,
	STSGetCallerIdentity:           (*Server).getCallerIdentity,
}

// ServeHTTP parses a call, applies faults and denials, answers and records it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := s.parse(r)
	s.identify(req)
	fault := NoFault
	if req.err == nil {
		fault = s.takeFault(req.call.Service, req.call.Action)
	}
	req.call.Fault = fault
	if fault == Hang {
		s.hang(r.Context(), req.call)
		return
	}
	resp, aerr := s.answer(req, fault)
	if aerr != nil {
		req.call.ErrorCode = aerr.code
	}
	s.record(req.call)
	if aerr != nil {
		writeError(w, req.proto, aerr)
		return
	}
	writeResult(w, req.proto, req.call.Action, resp)
}

// parse reads the protocol, action, parameters and signer of r.
func (s *Server) parse(r *http.Request) *request {
	req := &request{sessionToken: r.Header.Get("X-Amz-Security-Token")}
	req.call.Time = s.opts.now()
	auth := parseSigV4(r.Header.Get("Authorization"))
	req.call.AccessKeyID, req.call.Region = auth.akid, auth.region
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	req.signed = signedRequest{r: r, body: body, auth: auth}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		req.proto = protoJSON
		if err == nil {
			req.err = parseJSON(req, target, body)
		}
	} else {
		req.proto = protoQuery
		if err == nil {
			req.err = parseQuery(req, body)
		}
	}
	if err != nil {
		req.err = serialization(req.proto, "could not read the request body")
	}
	return req
}

// answer returns the result of a parsed request or the error to send.
func (s *Server) answer(req *request, f Fault) (any, *apiError) {
	if req.err != nil {
		return nil, req.err
	}
	if f != NoFault {
		return nil, faultError(f, req.proto, &req.call)
	}
	if aerr := s.authenticate(req); aerr != nil {
		return nil, aerr
	}
	return actions[qualify(req.call.Service, req.call.Action)](s, req)
}

// hang blocks until the client gives up or the server closes, then drops
// the connection without an answer.
func (s *Server) hang(ctx context.Context, c Call) {
	release := s.calls.Hold()
	defer release()
	s.record(c) // once recorded, Hanging counts it
	select {
	case <-ctx.Done():
	case <-s.closing:
	}
	panic(http.ErrAbortHandler)
}
