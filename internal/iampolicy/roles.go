package iampolicy

import (
	"encoding/json"

	"github.com/ocicred/ocicred/config"
)

// Roles the clouds other than AWS grant for pulling (spec, "Other clouds"):
// Artifact Registry's reader role (Container Registry hosts are served by
// Artifact Registry too) and ACR's AcrPull built-in role.
const (
	RoleGoogleReader = "roles/artifactregistry.reader"
	RoleAzurePull    = "AcrPull"
)

// Grant is one role a gar or acr registry's identity needs: on Google, a
// binding of Role to Member on the repositories' project; on Azure, a role
// assignment of Role to Assignee with the registry as scope.
type Grant struct {
	Registry string `json:"registry"`
	Endpoint string `json:"endpoint"`
	Cloud    string `json:"cloud"` // google or azure
	Role     string `json:"role"`
	// Member (Google) or Assignee (Azure) names the identity when the
	// config tells it; otherwise Identity says in words whose it is.
	Member   string `json:"member,omitempty"`
	Assignee string `json:"assignee,omitempty"`
	Identity string `json:"identity"`
}

// Roles lists the grant each gar and acr registry of cfg needs, in config
// order. A service account key's client_email is read from the resolved
// key when cfg's secrets were resolved (config.Load), else named in words.
func Roles(cfg *config.Config) []Grant {
	out := []Grant{}
	for _, r := range cfg.Registries {
		c := r.Credentials
		if c == nil {
			c = &config.Credentials{Type: config.CredDefault}
		}
		switch r.Type {
		case config.TypeGAR:
			g := Grant{Registry: r.Name, Endpoint: r.Host, Cloud: "google", Role: RoleGoogleReader}
			g.Member, g.Identity = googleMember(c)
			out = append(out, g)
		case config.TypeACR:
			g := Grant{Registry: r.Name, Endpoint: r.Host, Cloud: "azure", Role: RoleAzurePull}
			g.Assignee, g.Identity = azureAssignee(c)
			out = append(out, g)
		}
	}
	return out
}

// googleMember is the IAM member a gar credentials block acts as.
func googleMember(c *config.Credentials) (member, identity string) {
	switch c.Type {
	case config.CredImpersonate:
		return "serviceAccount:" + c.ServiceAccount, "the impersonated service account (its base identity needs roles/iam.serviceAccountTokenCreator on it)"
	case config.CredServiceAccountKey:
		var key struct {
			ClientEmail string `json:"client_email"`
		}
		if json.Unmarshal([]byte(c.ServiceAccountKey().Reveal()), &key) == nil && key.ClientEmail != "" {
			return "serviceAccount:" + key.ClientEmail, "the service account of the key"
		}
		return "", "the service account of the key (its client_email)"
	case config.CredWorkloadIdentity:
		return "", "the workload identity pool's principal, or the service account its configFile impersonates"
	}
	return "", "the node's default identity (GOOGLE_APPLICATION_CREDENTIALS or the metadata server's service account)"
}

// azureAssignee is the principal an acr credentials block acts as.
func azureAssignee(c *config.Credentials) (assignee, identity string) {
	switch c.Type {
	case config.CredClientSecret, config.CredClientCertificate:
		return c.ClientID, "the application (service principal)"
	case config.CredManagedIdentity:
		switch {
		case c.ClientID != "":
			return c.ClientID, "the user-assigned managed identity"
		case c.ResourceID != "":
			return c.ResourceID, "the user-assigned managed identity"
		}
		return "", "the machine's system-assigned managed identity"
	case config.CredWorkloadIdentity:
		if c.ClientID != "" {
			return c.ClientID, "the workload identity's application"
		}
		return "", "the workload identity's application (AZURE_CLIENT_ID)"
	}
	return "", "the identity azidentity's default chain finds (AZURE_CLIENT_ID, workload identity, managed identity)"
}
