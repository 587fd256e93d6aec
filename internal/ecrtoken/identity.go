package ecrtoken

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/ocicred/ocicred/config"
)

// Key names what makes two registries share one token: the same AWS
// identity asking the same regional API. ECR tokens are regional and work
// for every registry the identity may reach there, so registries with
// equal keys are served by one GetAuthorizationToken call.
type Key string

// KeyOf is reg's key. It hashes the credentials config (the secret key
// included, so that a rotated key is a new identity), never an access key
// id on its own: an assumed role is the same identity whatever temporary
// keys it has now.
func KeyOf(reg *config.Registry) Key {
	h := sha256.New()
	c := reg.Credentials
	if c == nil {
		c = &config.Credentials{Type: config.CredDefault}
	}
	fmt.Fprintf(h, "type=%s\x00ak=%s\x00sk=%s\x00role=%s\x00ext=%s\x00sess=%s\x00dur=%s\x00profile=%s\x00",
		c.Type, c.AccessKeyID, c.SecretKey().Reveal(), c.RoleArn, c.ExternalID, c.SessionName, c.Duration, c.Profile)
	// Not the dual-stack flag: ACCOUNT.dkr.ecr.REGION.amazonaws.com and
	// ACCOUNT.dkr-ecr.REGION.on.aws are two names of one registry, and one
	// token serves both (the loop calls the dual-stack API when any name
	// needs it: DualStackFirst).
	fmt.Fprintf(h, "region=%s\x00public=%t\x00fips=%t", reg.ECR.Region, reg.ECR.Public, reg.ECR.FIPS)
	return Key(hex.EncodeToString(h.Sum(nil))[:32])
}

// DualStackFirst orders regs, which share one key, so that a dual-stack
// registry comes first: the one a refresh loop fetches for, so that its
// call goes to the dual-stack API endpoint when any of the names needs it.
func DualStackFirst(regs []*config.Registry) []*config.Registry {
	out := make([]*config.Registry, 0, len(regs))
	for _, r := range regs {
		if r.ECR.DualStack {
			out = append(out, r)
		}
	}
	for _, r := range regs {
		if !r.ECR.DualStack {
			out = append(out, r)
		}
	}
	return out
}

// Describe names an identity for logs and status without any secret:
// "sts arn:aws:iam::1:role/x in us-west-2".
func Describe(reg *config.Registry) string {
	c := reg.Credentials
	if c == nil {
		return "default chain in " + reg.ECR.Region
	}
	who := c.Type
	switch c.Type {
	case config.CredSTS:
		who += " " + c.RoleArn
	case config.CredDefault:
		if c.Profile != "" {
			who += " profile " + c.Profile
		} else {
			who += " chain"
		}
	}
	return who + " in " + reg.ECR.Region
}
