package iampolicy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/config"
)

func TestMinimal(t *testing.T) {
	cfg, err := config.Parse([]byte(`registries:
  - {name: a, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com}
  - {name: b, type: ecr, endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com:443}
  - {name: cn, type: ecr, endpoint: 210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn}
  - {name: gov, type: ecr, endpoint: 111111111111.dkr.ecr-fips.us-gov-west-1.amazonaws.com}
  - {name: pub, type: ecr, endpoint: public.ecr.aws}
  - {name: anon, type: ecr, endpoint: 999999999999.dkr.ecr.eu-west-1.amazonaws.com, protected: false}
  - {name: h, type: basic, endpoint: h.example, username: u, passwordEnv: P}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(Minimal(cfg))
	want := `{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"OcicredToken","Effect":"Allow","Action":["ecr:GetAuthorizationToken"],"Resource":"*"},` +
		`{"Sid":"OcicredPull","Effect":"Allow","Action":["ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],` +
		`"Resource":["arn:aws-cn:ecr:cn-north-1:210987654321:repository/*","arn:aws-us-gov:ecr:us-gov-west-1:111111111111:repository/*","arn:aws:ecr:us-west-2:123456789012:repository/*"]},` +
		`{"Sid":"OcicredPublicToken","Effect":"Allow","Action":["ecr-public:GetAuthorizationToken","sts:GetServiceBearerToken"],"Resource":"*"}]}`
	if string(got) != want {
		t.Errorf("Minimal =\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(string(got), "999999999999") {
		t.Error("an unprotected registry is in the policy")
	}
}

func TestFullIsTheSeedPolicy(t *testing.T) {
	f := Full()
	if len(f.Statement) != 1 || len(f.Statement[0].Action) != 25 || f.Statement[0].Resource != "*" {
		t.Errorf("Full = %+v", f)
	}
}

func TestTrust(t *testing.T) {
	cfg, err := config.Parse([]byte(`registries:
  - name: a
    type: ecr
    endpoint: 123456789012.dkr.ecr.us-west-2.amazonaws.com
    credentials: {type: sts, roleArn: "arn:aws:iam::123456789012:role/pull", externalId: ext-42}
  - {name: b, type: ecr, endpoint: 123456789012.dkr.ecr.eu-west-1.amazonaws.com}
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tr := Trust(cfg, "")
	got, _ := json.Marshal(tr)
	want := `{"arn:aws:iam::123456789012:role/pull":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::NODE_ACCOUNT_ID:root"},"Action":["sts:AssumeRole"],"Condition":{"StringEquals":{"sts:ExternalId":"ext-42"}}}]}}`
	if string(got) != want {
		t.Errorf("Trust =\n%s\nwant\n%s", got, want)
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "aws", "cn-northwest-1": "aws-cn", "us-gov-east-1": "aws-us-gov",
		"us-iso-east-1": "aws-iso", "us-isob-east-1": "aws-iso-b", "eu-isoe-west-1": "aws-iso-e", "us-isof-south-1": "aws-iso-f"} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%s) = %s, want %s", region, got, want)
		}
	}
}
