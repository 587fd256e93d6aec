package ecrtoken

import (
	"strings"
	"testing"

	"github.com/ocicred/ocicred/test/awsfake"
)

// TestTwoRolesOneNode: two registries with two roles each get their own
// session, and each ECR call is made as its own role.
func TestTwoRolesOneNode(t *testing.T) {
	srv := startFake(t)
	regs := registries(t, `registries:
  - name: a
    type: ecr
    endpoint: 210987654321.dkr.ecr.us-west-2.amazonaws.com
    credentials: {type: sts, roleArn: "`+testRoleA+`", accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}
  - name: b
    type: ecr
    endpoint: 111122223333.dkr.ecr.us-west-2.amazonaws.com
    credentials: {type: sts, roleArn: "`+testRoleB+`", accessKeyId: `+testKeyID+`, secretAccessKey: `+testSecret+`}
`)
	if KeyOf(regs[0]) == KeyOf(regs[1]) {
		t.Fatal("two roles share one key")
	}
	f := NewFetcher()
	for _, reg := range regs {
		if _, err := f.Fetch(testCtx(t), reg); err != nil {
			t.Fatalf("Fetch %s: %v", reg.Name, err)
		}
	}
	ars := callsOf(srv, awsfake.STSAssumeRole)
	ecrs := callsOf(srv, awsfake.ECRGetAuthorizationToken)
	if len(ars) != 2 || len(ecrs) != 2 {
		t.Fatalf("%d AssumeRole and %d GetAuthorizationToken calls, want 2 and 2", len(ars), len(ecrs))
	}
	for i, role := range []string{testRoleA, testRoleB} {
		if ars[i].RoleArn != role {
			t.Errorf("AssumeRole %d for %s, want %s", i, ars[i].RoleArn, role)
		}
		if ecrs[i].RoleArn != role {
			t.Errorf("GetAuthorizationToken %d made as %q, want %s", i, ecrs[i].RoleArn, role)
		}
	}
	if ecrs[0].AccessKeyID == ecrs[1].AccessKeyID {
		t.Error("both registries signed with one temporary key")
	}
}

// TestKeyOf: equal identity and regional API, equal key; anything else
// that changes who asks or where, another key.
func TestKeyOf(t *testing.T) {
	reg := func(endpoint, creds string) string {
		return "  - name: NAME\n    type: ecr\n    endpoint: " + endpoint +
			"\n    credentials: " + creds + "\n"
	}
	const (
		sec    = `{type: secret, accessKeyId: ` + testKeyID + `, secretAccessKey: ` + testSecret + `}`
		sts    = `{type: sts, roleArn: "` + testRoleA + `", accessKeyId: ` + testKeyID + `, secretAccessKey: ` + testSecret + `}`
		west   = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
		west2  = "999999999999.dkr.ecr.us-west-2.amazonaws.com" // another account's registry, same API
		east   = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
		westFP = "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com"
	)
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"same keys, same region, two accounts' registries", reg(west, sec), reg(west2, sec), true},
		{"same role, same region", reg(west, sts), reg(west2, sts), true},
		{"default chain, same region", reg(west, "{type: default}"), reg(west2, "{type: default}"), true},
		{"same keys, a mirror given region: us-west-2", reg(west, sec), reg("ecr-mirror.example.com\n    region: us-west-2", sec), true},
		{"same keys, another region", reg(west, sec), reg(east, sec), false},
		{"same keys, a mirror given another region", reg(west, sec), reg("ecr-mirror.example.com\n    region: eu-west-1", sec), false},
		{"same keys, FIPS API", reg(west, sec), reg(westFP, sec), false},
		{"two roles", reg(west, sts), reg(west2, strings.Replace(sts, testRoleA, testRoleB, 1)), false},
		{"role vs its base keys", reg(west, sts), reg(west2, sec), false},
		{"another external id", reg(west, sts), reg(west2, strings.Replace(sts, "}", ", externalId: x1}", 1)), false},
		{"another session name", reg(west, sts), reg(west2, strings.Replace(sts, "}", ", sessionName: other}", 1)), false},
		{"rotated secret key", reg(west, sec), reg(west2, strings.Replace(sec, testSecret, "rotated-secret-key", 1)), false},
		{"two profiles", reg(west, "{type: default, profile: a}"), reg(west2, "{type: default, profile: b}"), false},
		{"profile vs the plain chain", reg(west, "{type: default, profile: a}"), reg(west2, "{type: default}"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			regs := registries(t, "registries:\n"+strings.Replace(tt.a, "NAME", "a", 1)+strings.Replace(tt.b, "NAME", "b", 1))
			ka, kb := KeyOf(regs[0]), KeyOf(regs[1])
			if (ka == kb) != tt.same {
				t.Errorf("KeyOf equal = %v, want %v", ka == kb, tt.same)
			}
			for _, k := range []Key{ka, kb} {
				for _, s := range []string{testKeyID, testSecret, "rotated-secret-key"} {
					if strings.Contains(string(k), s) {
						t.Errorf("key %s holds %s", k, s)
					}
				}
			}
		})
	}
	// A key is stable: the token cache's file names depend on it.
	r1 := registry(t, "registries:\n"+strings.Replace(reg(west, sts), "NAME", "a", 1))
	r2 := registry(t, "registries:\n"+strings.Replace(reg(west, sts), "NAME", "a", 1))
	if KeyOf(r1) != KeyOf(r2) {
		t.Error("KeyOf differs for equal registries")
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct{ creds, want string }{
		{`{type: sts, roleArn: "` + testRoleA + `", accessKeyId: ` + testKeyID + `, secretAccessKey: ` + testSecret + `}`,
			"sts " + testRoleA + " in us-west-2"},
		{`{type: secret, accessKeyId: ` + testKeyID + `, secretAccessKey: ` + testSecret + `}`, "secret in us-west-2"},
		{`{type: default}`, "default chain in us-west-2"},
		{`{type: default, profile: dev}`, "default profile dev in us-west-2"},
	}
	for _, tt := range tests {
		reg := registry(t, "registries:\n  - name: r\n    type: ecr\n    endpoint: "+testHost+"\n    credentials: "+tt.creds+"\n")
		got := Describe(reg)
		if got != tt.want {
			t.Errorf("Describe = %q, want %q", got, tt.want)
		}
		if strings.Contains(got, testSecret) || strings.Contains(got, testKeyID) {
			t.Errorf("Describe %q names a key", got)
		}
	}
}
