// Package iampolicy writes the IAM policies ocicred's ECR registries need:
// the minimal pull policy (Minimal), the seed page's complete one (Full),
// and the trust policies of roles assumed with an external id (Trust).
package iampolicy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ocicred/ocicred/config"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM statement.
type Statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    []string       `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

const version = "2012-10-17"

// pullActions are what a pull needs on a repository.
var pullActions = []string{"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}

// Minimal is the least a node needs to pull from cfg's protected ECR
// registries: a token, and the pull actions on their repositories.
func Minimal(cfg *config.Config) Document {
	var repos []string
	public := false
	for _, r := range cfg.Registries {
		if !r.IsProtected() {
			continue
		}
		if r.ECR.Public {
			public = true
			continue
		}
		account := r.ECR.Account
		if account == "" {
			account = "*" // a proxy endpoint: the account is not in the host name
		}
		repos = append(repos, fmt.Sprintf("arn:%s:ecr:%s:%s:repository/*", Partition(r.ECR.Region), r.ECR.Region, account))
	}
	doc := Document{Version: version}
	if len(repos) > 0 {
		doc.Statement = append(doc.Statement,
			Statement{Sid: "OcicredToken", Effect: "Allow", Action: []string{"ecr:GetAuthorizationToken"}, Resource: "*"},
			Statement{Sid: "OcicredPull", Effect: "Allow", Action: pullActions, Resource: dedupe(repos)})
	}
	if public {
		doc.Statement = append(doc.Statement, Statement{Sid: "OcicredPublicToken", Effect: "Allow",
			Action: []string{"ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"}, Resource: "*"})
	}
	return doc
}

// Full is the complete policy of the registry model's documentation.
func Full() Document {
	return Document{Version: version, Statement: []Statement{{
		Sid: "VisualEditor0", Effect: "Allow", Resource: "*",
		Action: []string{
			"ecr-public:DescribeRegistries", "ecr:DescribeImageReplicationStatus", "ecr:ListTagsForResource",
			"ecr:ListImages", "ecr:DescribeRepositories", "ecr:BatchCheckLayerAvailability", "ecr:GetLifecyclePolicy",
			"ecr-public:DescribeImageTags", "ecr-public:DescribeImages", "ecr:GetRegistryPolicy",
			"ecr-public:GetAuthorizationToken", "ecr:DescribeImageScanFindings", "ecr:GetLifecyclePolicyPreview",
			"ecr:GetDownloadUrlForLayer", "ecr-public:GetRepositoryCatalogData", "ecr:DescribeRegistry",
			"ecr:GetAuthorizationToken", "ecr-public:GetRepositoryPolicy", "ecr-public:DescribeRepositories",
			"ecr:BatchGetImage", "ecr:DescribeImages", "ecr-public:GetRegistryCatalogData",
			"ecr-public:ListTagsForResource", "ecr-public:BatchCheckLayerAvailability", "ecr:GetRepositoryPolicy",
		},
	}}}
}

// Trust maps each role that cfg assumes to the trust policy it needs: the
// node's principal may assume it, with the external id when one is set.
// principal is the ARN of the node's identity, or empty for a placeholder.
func Trust(cfg *config.Config, principal string) map[string]Document {
	out := map[string]Document{}
	for _, r := range cfg.Registries {
		c := r.Credentials
		if !r.IsProtected() || c == nil || c.Type != config.CredSTS {
			continue
		}
		p := principal
		if p == "" {
			p = "arn:" + Partition(r.ECR.Region) + ":iam::NODE_ACCOUNT_ID:root"
		}
		st := Statement{Effect: "Allow", Principal: map[string]any{"AWS": p}, Action: []string{"sts:AssumeRole"}}
		if c.ExternalID != "" {
			st.Condition = map[string]any{"StringEquals": map[string]string{"sts:ExternalId": c.ExternalID}}
		}
		out[c.RoleArn] = Document{Version: version, Statement: []Statement{st}}
	}
	return out
}

// Partition is the ARN partition of a region.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	case strings.HasPrefix(region, "us-isof-"):
		return "aws-iso-f"
	case strings.HasPrefix(region, "eu-isoe-"):
		return "aws-iso-e"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	}
	return "aws"
}

func dedupe(ss []string) []string {
	sort.Strings(ss)
	out := ss[:0]
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}
