package awsfake

// WithKey registers the long-term access key id with its secret key at
// start, as AddKey does afterwards.
func WithKey(id, secret string) Option {
	return func(o *options) { o.keys[id] = secret }
}

// AddKey registers the long-term access key id (an IAM user of the
// server's account, see WithAccount) with its secret key. Calls signed with
// it are then accepted only when their SigV4 signature, recomputed with
// secret, matches; calls signed with a key neither registered nor issued by
// AssumeRole* are refused as AWS refuses an unknown key
// (UnrecognizedClientException, STS InvalidClientTokenId). Registering id
// again replaces its secret, as a key rotation would. The secret is never
// logged nor recorded.
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
