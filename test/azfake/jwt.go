package azfake

import (
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Audiences of Entra ID access tokens, as the aud claim carries them.
const (
	ACRAudience = "https://containerregistry.azure.net"
	ARMAudience = "https://management.azure.com"
	// ACRScope and ARMScope are the scopes a client asks Entra ID for.
	ACRScope = ACRAudience + "/.default"
	ARMScope = ARMAudience + "/.default"
)

// Kinds of token the server issues (claim "azfake_kind"), so that one kind
// is never taken for another.
const (
	kindEntra   = "entra"
	kindRefresh = "refresh"
	kindAccess  = "access"
)

// sign returns claims signed RS256 with the server's key.
func (s *Server) sign(claims jwt.MapClaims) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(s.key)
	if err != nil {
		panic("azfake: sign: " + err.Error())
	}
	return tok
}

// times sets iat, nbf and exp: issued at the server's now, valid for life.
// An expired token (the Expired fault) was issued life+1m ago.
func (s *Server) times(claims jwt.MapClaims, life time.Duration, expired bool) time.Time {
	iat := s.now()
	if expired {
		iat = iat.Add(-life - time.Minute)
	}
	claims["iat"] = iat.Unix()
	claims["nbf"] = iat.Unix()
	claims["exp"] = iat.Add(life).Unix()
	return iat
}

// errExpired: a token of ours that has expired by the server's clock.
var errExpired = errors.New("token expired")

// verify checks that tok is a token of kind this server signed and that
// it has not expired by the server's clock; it returns its claims.
func (s *Server) verify(tok, kind string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return &s.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if errors.Is(err, jwt.ErrTokenExpired) {
		return nil, errExpired
	}
	if err != nil {
		return nil, err
	}
	if claims["azfake_kind"] != kind {
		return nil, errors.New("not a " + kind + " token")
	}
	return claims, nil
}

// str returns claim name of c as a string, "" when absent.
func str(c jwt.MapClaims, name string) string {
	v, _ := c[name].(string)
	return v
}
