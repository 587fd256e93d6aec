package config

import (
	"errors"
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
			[]string{`c.yaml:7:11: registries[1].name: "a" is already the name of registries[0]; names must be unique`,
				`c.yaml:9:15: registries[1].endpoint: a.example is already the endpoint of registries[0]; give each registry its own endpoint`}},
		{"bad type", "registries:\n  - name: a\n    type: harbor\n    endpoint: a.example\n",
			[]string{`c.yaml:3:11: registries[0].type: "harbor" is not a registry type; write basic or ecr`}},
		{"missing fields", "registries:\n  - type: basic\n",
			[]string{`c.yaml:2:5: registries[0].name: is required: a unique name of letters, digits, -, _ and .`,
				`c.yaml:2:5: registries[0].endpoint: is required: the registry's host[:port], such as harbor.example.com:8443`,
				`c.yaml:2:5: registries[0].username: is required for a basic registry`,
				`c.yaml:2:5: registries[0].password: is required: write exactly one of password, passwordFile or passwordEnv`}},
		{"bad name and endpoint", "registries:\n  - name: a b\n    type: basic\n    endpoint: ftp://x\n    username: u\n    passwordEnv: P\n",
			[]string{`c.yaml:2:11: registries[0].name: "a b" may hold only letters, digits, -, _ and .`,
				`c.yaml:4:15: registries[0].endpoint: scheme "ftp" is not supported; write https:// (the default) or http:// for a plain-HTTP registry`}},
		{"ecr region not inferable", "registries:\n  - name: e\n    type: ecr\n    endpoint: proxy.example.com\n",
			[]string{`c.yaml:2:5: registries[0].region: is required: proxy.example.com is not an ECR host name, so its region cannot be inferred; write region: us-east-1 (or the registry's region)`}},
		{"ecr with basic fields", "registries:\n  - name: e\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n    username: u\n",
			[]string{`c.yaml:5:15: registries[0].username: applies to type basic only; ECR registries get their password from AWS; remove it`}},
		{"basic with ecr fields", basic + "    passwordEnv: P\n    region: us-west-2\n",
			[]string{`c.yaml:7:13: registries[0].region: applies to type ecr only; remove it, or set type: ecr`}},
		{"unprotected with credentials", "registries:\n  - name: e\n    type: ecr\n    endpoint: public.ecr.aws\n    protected: false\n    credentials: {type: default}\n",
			[]string{`c.yaml:6:18: registries[0].credentials: an unprotected registry takes no credentials; remove them, or set protected: true`}},
		{"sts errors", "registries:\n  - name: e\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n    credentials:\n      type: sts\n      roleArn: ecr-pull\n      duration: 13h\n      accessKeyId: AKIAEXAMPLEEXAMPLE12\n",
			[]string{`c.yaml:7:16: registries[0].credentials.roleArn: "ecr-pull" is not an IAM role ARN; write arn:aws:iam::ACCOUNT:role/NAME`,
				`c.yaml:8:17: registries[0].credentials.duration: must be from 15m to 12h`,
				`c.yaml:6:7: registries[0].credentials.secretAccessKey: is required: write exactly one of secretAccessKey, secretAccessKeyFile or secretAccessKeyEnv`}},
		{"bad duration and bool", "registries:\n  - name: e\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n    protected: maybe\n    credentials:\n      type: sts\n      roleArn: arn:aws:iam::123456789012:role/r\n      duration: soon\n",
			[]string{`c.yaml:5:16: registries[0].protected: must be true or false, not "maybe"`,
				`c.yaml:9:17: registries[0].credentials.duration: "soon" is not a duration; write a number with a unit, such as 1h or 90m`}},
		{"secret without keys", "registries:\n  - name: e\n    type: ecr\n    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com\n    credentials:\n      type: secret\n      profile: x\n",
			[]string{`c.yaml:7:16: registries[0].credentials.profile: does not apply to type secret; remove it`,
				`c.yaml:6:7: registries[0].credentials.accessKeyId: is required for type secret: the access key id, such as AKIAIOSFODNN7EXAMPLE`,
				`c.yaml:6:7: registries[0].credentials.secretAccessKey: is required: write exactly one of secretAccessKey, secretAccessKeyFile or secretAccessKeyEnv`}},
		{"wrong shapes", "registries: {}\nsocket: [a]\n",
			[]string{`c.yaml:1:13: registries: must be a list, not a mapping`, `c.yaml:2:9: socket: must be a string, not a list`}},
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

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# nothing\n", "registries: []\n", "registries:\n"} {
		c, err := Parse([]byte(in), "c.yaml")
		if err != nil || len(c.Registries) != 0 {
			t.Errorf("Parse(%q) = %v, %v", in, c, err)
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
