package config

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

const full = `
socket: /run/ocicred/ocicred.sock
socketGroup: ocicred
metrics: 127.0.0.1:9464
containerd:
  hostsDir: /etc/containerd/certs.d
registries:
  - name: harbor
    type: basic
    endpoint: harbor.example.com:8443
    tls:
      ca: /etc/ocicred/harbor-ca.pem
      insecureSkipVerify: false
    username: robot$ci
    password: s3cret
    allow: [root, "group:docker"]
  - name: public-gallery
    type: ecr
    endpoint: public.ecr.aws
    protected: false
  - name: prod
    type: ecr
    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com
    protected: true
    region: us-west-2
    credentials:
      type: sts
      roleArn: arn:aws:iam::123456789012:role/ecr-pull
      externalId: 3f1c9a
      sessionName: ocicred
      duration: 1h
      accessKeyId: AKIAEXAMPLEEXAMPLE12
      secretAccessKey: wJalrEXAMPLE
  - name: dev
    type: ecr
    endpoint: 210987654321.dkr.ecr.eu-central-1.amazonaws.com
    credentials:
      type: default
      profile: dev
  - name: local
    type: basic
    endpoint: http://127.0.0.1:5000
    username: alice
    passwordEnv: LOCAL_PW
`

func TestParseSpecExample(t *testing.T) {
	c, err := Parse([]byte(full), "config.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(c.Registries) != 5 {
		t.Fatalf("got %d registries", len(c.Registries))
	}
	h := c.Registries[0]
	if h.Host != "harbor.example.com:8443" || h.Scheme != "https" || h.Password.Reveal() != "s3cret" || len(h.Allow) != 2 {
		t.Errorf("harbor = %+v", h)
	}
	if pub := c.Registries[1]; pub.IsProtected() || !pub.ECR.Public || pub.ECR.Region != "us-east-1" {
		t.Errorf("public-gallery = %+v", pub)
	}
	prod := c.Registries[2]
	if !prod.IsProtected() || prod.ECR.Region != "us-west-2" || prod.Credentials.Duration.Hours() != 1 || prod.User() != "AWS" {
		t.Errorf("prod = %+v", prod)
	}
	if local := c.Registries[4]; local.Scheme != "http" || local.Host != "127.0.0.1:5000" || local.ServerURL() != "http://127.0.0.1:5000" {
		t.Errorf("local = %+v", local)
	}
	if !c.HasInlineSecrets() {
		t.Error("HasInlineSecrets() = false")
	}
}

func TestParseJSON(t *testing.T) {
	c, err := Parse([]byte(`{"registries":[{"name":"a","type":"basic","endpoint":"a.example","username":"u","passwordEnv":"X"}]}`), "c.json")
	if err != nil || len(c.Registries) != 1 || c.Registries[0].Host != "a.example" {
		t.Fatalf("Parse(JSON) = %+v, %v", c, err)
	}
}

// Each bad file must give exactly the listed errors, in order, each naming
// file:line:column and the field.
func TestParseErrors(t *testing.T) {
	basic := "registries:\n  - name: a\n    type: basic\n    endpoint: a.example\n    username: u\n"
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown field with suggestion", basic + "    passwrd: x\n",
			[]string{`c.yaml:6:5: registries[0].passwrd: unknown field; did you mean "password"?`,
				`c.yaml:2:5: registries[0].password: is required: write exactly one of password, passwordFile or passwordEnv`}},
		{"unknown top-level field", "registry: []\n",
			[]string{`c.yaml:1:1: registry: unknown field; did you mean "registries"?`}},
		{"two password sources", basic + "    password: x\n    passwordFile: /x\n",
			[]string{`c.yaml:7:19: registries[0].passwordFile: password and passwordFile are both given; keep exactly one`}},
		{"empty password", basic + "    password: \"\"\n",
			[]string{`c.yaml:6:15: registries[0].password: is empty; write the secret, or use passwordFile or passwordEnv`}},
		{"relative passwordFile", basic + "    passwordFile: pw.txt\n",
			[]string{`c.yaml:6:19: registries[0].passwordFile: must be an absolute path to a file holding the secret`}},
		{"duplicate names and endpoints", basic + "    passwordEnv: P\n  - name: a\n    type: basic\n    endpoint: HTTPS://A.example/\n    username: u\n    passwordEnv: P\n",
			[]string{`c.yaml:7:11: registries[1].name: is already the name of registries[0]; names must be unique`,
				`c.yaml:9:15: registries[1].endpoint: a.example is already the endpoint of registries[0]; give each registry its own endpoint`}},
		{"bad type", "registries:\n  - name: a\n    type: harbor\n    endpoint: a.example\n",
			[]string{`c.yaml:3:11: registries[0].type: is not a registry type; write basic, ecr, gar or acr`}},
		{"missing fields", "registries:\n  - type: basic\n",
			[]string{`c.yaml:2:5: registries[0].name: is required: a unique name of letters, digits, -, _ and .`,
				`c.yaml:2:5: registries[0].endpoint: is required: the registry's host[:port], such as harbor.example.com:8443`,
				`c.yaml:2:5: registries[0].username: is required for a basic registry`,
				`c.yaml:2:5: registries[0].password: is required: write exactly one of password, passwordFile or passwordEnv`}},
		{"bad name and endpoint", "registries:\n  - name: a b\n    type: basic\n    endpoint: ftp://x\n    username: u\n    passwordEnv: P\n",
			[]string{`c.yaml:2:11: registries[0].name: may hold only letters, digits, -, _ and .`,
				`c.yaml:4:15: registries[0].endpoint: the scheme is not supported; write https:// (the default) or http:// for a plain-HTTP registry`}},
		{"ecr region not inferable", "registries:\n  - name: e\n    type: ecr\n    endpoint: proxy.example.com\n",
			[]string{`c.yaml:2:5: registries[0].region: is required: proxy.example.com is not an ECR host name, so its region cannot be inferred; write region: us-east-1 (or the registry's region)`}},
		{"ecr with basic fields", "registries:\n  - name: e\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n    username: u\n",
			[]string{`c.yaml:5:15: registries[0].username: applies to type basic only; ECR registries get their password from AWS; remove it`}},
		{"basic with ecr fields", basic + "    passwordEnv: P\n    region: us-west-2\n",
			[]string{`c.yaml:7:13: registries[0].region: applies to type ecr only; remove it, or set type: ecr`}},
		{"unprotected with credentials", "registries:\n  - name: e\n    type: ecr\n    endpoint: public.ecr.aws\n    protected: false\n    credentials: {type: default}\n",
			[]string{`c.yaml:6:18: registries[0].credentials: an unprotected registry takes no credentials; remove them, or set protected: true`}},
		{"sts errors", "registries:\n  - name: e\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n    credentials:\n      type: sts\n      roleArn: ecr-pull\n      duration: 13h\n      accessKeyId: AKIAEXAMPLEEXAMPLE12\n",
			[]string{`c.yaml:7:16: registries[0].credentials.roleArn: is not an IAM role ARN; write arn:aws:iam::ACCOUNT:role/NAME`,
				`c.yaml:8:17: registries[0].credentials.duration: must be from 15m to 12h`,
				`c.yaml:6:7: registries[0].credentials.secretAccessKey: is required: write exactly one of secretAccessKey, secretAccessKeyFile or secretAccessKeyEnv`}},
		{"bad duration and bool", "registries:\n  - name: e\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n    protected: maybe\n    credentials:\n      type: sts\n      roleArn: arn:aws:iam::123456789012:role/r\n      duration: soon\n",
			[]string{`c.yaml:5:16: registries[0].protected: must be true or false`,
				`c.yaml:9:17: registries[0].credentials.duration: is not a duration; write a number with a unit, such as 1h or 90m`}},
		{"secret without keys", "registries:\n  - name: e\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n    credentials:\n      type: secret\n      profile: x\n",
			[]string{`c.yaml:7:16: registries[0].credentials.profile: does not apply to type secret; remove it`,
				`c.yaml:6:7: registries[0].credentials.accessKeyId: is required for type secret: the access key id, such as AKIAIOSFODNN7EXAMPLE`,
				`c.yaml:6:7: registries[0].credentials.secretAccessKey: is required: write exactly one of secretAccessKey, secretAccessKeyFile or secretAccessKeyEnv`}},
		{"wrong shapes", "registries: {}\nsocket: [a]\n",
			[]string{`c.yaml:1:13: registries: must be a list, not a mapping`, `c.yaml:2:9: socket: must be a string, not a list`}},
		{"nodeWide without allow", basic + "    passwordEnv: P\n    nodeWide: true\n",
			[]string{`c.yaml:7:15: registries[0].nodeWide: applies only to a registry with allow (without it, every consumer gets the registry); remove it`}},
		{"duplicate key", "socket: /a\nsocket: /b\n",
			[]string{`c.yaml:2:1: socket: given twice; keep one`}},
		{"relative paths", "socket: ocicred.sock\ncontainerd:\n  hostsDir: certs.d\nmetrics: 9464\n",
			[]string{`c.yaml:1:9: socket: must be an absolute path, such as /run/ocicred/ocicred.sock`,
				`c.yaml:4:10: metrics: must be host:port to listen on, such as 127.0.0.1:9464`,
				`c.yaml:3:13: containerd.hostsDir: must be an absolute path, such as /etc/containerd/certs.d`}},
		{"syntax error", "registries:\n  - name: a\n   type: b\n",
			[]string{`c.yaml:1:1: not valid YAML or JSON: did not find expected '-' indicator`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), "c.yaml")
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse error = %v (%T), want Errors", err, err)
			}
			got := strings.Split(es.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A file with no registries is valid when it says so; an empty one (0
// bytes, or only comments: a truncated file) is refused, so that a broken
// save never removes every registry (spec, "Operating it").
func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"registries: []\n", "registries:\n", "socketGroup: ocicred\n"} {
		c, err := Parse([]byte(in), "c.yaml")
		if err != nil || len(c.Registries) != 0 {
			t.Errorf("Parse(%q) = %v, %v", in, c, err)
		}
	}
	for _, in := range []string{"", "\n", "# nothing\n", "# a\n\n   # b\n", "---\n"} {
		if _, err := Parse([]byte(in), "c.yaml"); err == nil || !strings.Contains(err.Error(), "c.yaml:1:1: the file is empty") ||
			!strings.Contains(err.Error(), "registries: []") {
			t.Errorf("Parse(%q) = %v, want the file refused as empty", in, err)
		}
	}
}

func TestParseNoSecretInErrors(t *testing.T) {
	const pw = "topsecret-Zq9"
	in := "registries:\n  - name: a\n    type: basic\n    endpoint: a.example\n    username: u\n    password: " + pw + "\n    passwordEnv: X\n    bogus: 1\n"
	_, err := Parse([]byte(in), "c.yaml")
	if err == nil || strings.Contains(err.Error(), pw) {
		t.Fatalf("error %v must exist and not contain the password", err)
	}
}

// TestNoConfigValueEchoed pastes a secret into every place a careless edit
// might put one. Each is refused with the field and what to write, and no
// error quotes the secret: errors reach the log, status (which the whole
// socket group reads) and config validate.
func TestNoConfigValueEchoed(t *testing.T) {
	const s = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
	basic := func(fields string) string {
		return "registries:\n  - {name: a, type: basic, username: u, " + fields + "}\n"
	}
	sts := func(fields string) string {
		return "registries:\n  - {name: e, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com, credentials: {type: sts, roleArn: 'arn:aws:iam::123456789012:role/r', " + fields + "}}\n"
	}
	tests := []struct {
		name, in, want string
	}{
		{"user info in endpoint", basic("endpoint: 'https://robot:" + s + "@harbor.example', passwordEnv: PW"),
			"registries[0].endpoint: holds a user name or password (user:password@)"},
		{"user info without scheme", basic("endpoint: 'robot:" + s + "@harbor.example:8443', passwordEnv: PW"),
			"registries[0].endpoint: holds a user name or password"},
		{"query string in endpoint", basic("endpoint: 'https://harbor.example/v2/?access_token=" + s + "', passwordEnv: PW"),
			"registries[0].endpoint: holds a query string or a #fragment"},
		{"fragment in endpoint", basic("endpoint: 'harbor.example#" + s + "', passwordEnv: PW"),
			"registries[0].endpoint: holds a query string or a #fragment"},
		{"garbage endpoint", basic("endpoint: '" + s + ":x', passwordEnv: PW"),
			"registries[0].endpoint: is not host[:port]: the port is not a number"},
		{"secret as passwordEnv", basic("endpoint: h.example, passwordEnv: '" + s + "/+='"),
			"registries[0].passwordEnv: is not an environment variable name"},
		{"secret shaped like a variable", sts("accessKeyId: AKIAEXAMPLEEXAMPLE12, secretAccessKeyEnv: " + s),
			"registries[0].credentials.secretAccessKeyEnv: is not an environment variable name"},
		{"secret as credentials", "registries:\n  - {name: e, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com, credentials: " + s + "}\n",
			"registries[0].credentials: must be a mapping of fields, not a single value"},
		{"secret as tls", basic("endpoint: h.example, passwordEnv: PW, tls: " + s),
			"registries[0].tls: must be a mapping of fields, not a single value"},
		{"secret as allow", basic("endpoint: h.example, passwordEnv: PW, allow: " + s),
			"registries[0].allow: must be a list, not a single value"},
		{"secret as bool", basic("endpoint: h.example, passwordEnv: PW, tls: {insecureSkipVerify: " + s + "}"),
			"registries[0].tls.insecureSkipVerify: must be true or false"},
		{"secret as duration", sts("duration: " + s), "registries[0].credentials.duration: is not a duration"},
		{"secret as roleArn", "registries:\n  - {name: e, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com, credentials: {type: sts, roleArn: " + s + "}}\n",
			"registries[0].credentials.roleArn: is not an IAM role ARN"},
		{"secret as region", "registries:\n  - {name: e, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com, region: " + s + "}\n",
			"registries[0].region: is not an AWS region"},
		{"secret as type", "registries:\n  - {name: e, type: " + s + ", endpoint: h.example}\n", "registries[0].type: is not a registry type"},
		{"secret as name", "registries:\n  - {name: '" + s + " x', type: basic, endpoint: h.example, username: u, passwordEnv: PW}\n",
			"registries[0].name: may hold only letters"},
		{"secret as access key id", sts("accessKeyId: '" + s + "+', secretAccessKeyEnv: SK"), "registries[0].credentials.accessKeyId: is not an access key id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "c.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v\nwant an error with %q", redact(err, s), tt.want)
			}
			if err != nil && strings.Contains(strings.ToLower(err.Error()), strings.ToLower(s)) {
				t.Errorf("the error quotes the secret: %s", redact(err, s))
			}
		})
	}

	// A valid variable name that is not set: the error does not name it
	// either, in case it was the secret after all.
	c, err := Parse([]byte(basic("endpoint: h.example, passwordEnv: S3CRETPASSWORD")), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = c.ResolveSecrets(Sources{LookupEnv: func(string) (string, bool) { return "", false }})
	if err == nil || strings.Contains(err.Error(), "S3CRETPASSWORD") || !strings.Contains(err.Error(), "registries[0].passwordEnv:") {
		t.Errorf("ResolveSecrets = %v", redact(err, "S3CRETPASSWORD"))
	}
}

// redact is err's text with secret (in any case) replaced, for test output.
func redact(err error, secret string) string {
	if err == nil {
		return "<nil>"
	}
	re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(secret))
	return re.ReplaceAllString(err.Error(), "<SECRET>")
}
