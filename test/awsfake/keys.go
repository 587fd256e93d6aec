package awsfake

// WithKey registers the long-term access key id with its secret key at
// start, as AddKey does afterwards (one WithKey per key).
func WithKey(id, secret string) Option {
	return func(o *options) { o.keys[id] = secret }
}

// AddKey registers the long-term access key id (an IAM user of the
// server's account, see WithAccount) with its secret key. As AWS does
// (SigV4, docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html),
// the server then accepts a call signed with id only when the signature it
// recomputes with secret matches; a call signed with a key neither
// registered nor issued by AssumeRole* is refused as AWS refuses an unknown
// key (UnrecognizedClientException, STS InvalidClientTokenId). Registering
// id again replaces its secret, as a rotation would. The secret is never
// logged nor recorded in Call.
func (s *Server) AddKey(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.longTermKeys[id] = secret
}

// signingKey is what the server knows of an access key id: its secret, and
// for a temporary key the session it belongs to.
type signingKey struct {
	secret    string // never logged
	temporary bool
	session   session // set when temporary
}

// lookupKey returns the secret of access key id akid: a temporary key that
// AssumeRole* issued, or a registered long-term key.
func (s *Server) lookupKey(akid string) (signingKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ses, ok := s.state.keys[akid]; ok {
		return signingKey{secret: ses.secret, temporary: true, session: ses}, true
	}
	if secret, ok := s.state.longTermKeys[akid]; ok {
		return signingKey{secret: secret}, true
	}
	return signingKey{}, false
}
