package ecrhost

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
		want Host
	}{
		{"123456789012.dkr.ecr.us-west-2.amazonaws.com", true, Host{Account: "123456789012", Region: "us-west-2"}},
		{"123456789012.DKR.ECR.US-WEST-2.AMAZONAWS.COM:443", true, Host{Account: "123456789012", Region: "us-west-2"}},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", true, Host{Account: "123456789012", Region: "cn-north-1"}},
		{"123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", true, Host{Account: "123456789012", Region: "us-gov-west-1"}},
		{"123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", true, Host{Account: "123456789012", Region: "us-iso-east-1"}},
		{"123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", true, Host{Account: "123456789012", Region: "us-isob-east-1"}},
		{"123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", true, Host{Account: "123456789012", Region: "eu-isoe-west-1"}},
		{"123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", true, Host{Account: "123456789012", Region: "us-isof-south-1"}},
		{"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", true, Host{Account: "123456789012", Region: "us-east-1", FIPS: true}},
		{"123456789012.dkr-ecr.eu-west-1.on.aws", true, Host{Account: "123456789012", Region: "eu-west-1", DualStack: true}},
		{"123456789012.dkr-ecr-fips.us-east-2.on.aws", true, Host{Account: "123456789012", Region: "us-east-2", DualStack: true, FIPS: true}},
		{"public.ecr.aws", true, Host{Region: "us-east-1", Public: true}},
		{"ecr-public.aws.com", true, Host{Region: "us-east-1", Public: true}},
		{"harbor.example.com", false, Host{}},
		{"12345.dkr.ecr.us-west-2.amazonaws.com", false, Host{}},
		{"123456789012.dkr.ecr.notaregion.amazonaws.com", false, Host{}},
		{"123456789012.dkr.ecr.us-west-2.amazonaws.com.evil.com", false, Host{}},
		{"", false, Host{}},
	}
	for _, tt := range tests {
		got, ok := Parse(tt.host)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tt.host, got, ok, tt.want, tt.ok)
		}
	}
}
