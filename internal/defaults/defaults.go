// Package defaults holds ocicred's default paths and the names of its
// environment variables (spec: "Configuration file", "Environment"), in one
// place for every program. It imports nothing, so the credential helper
// may link it.
package defaults

// Default paths.
const (
	// ConfigPath is the config file when neither --config nor
	// OCICRED_CONFIG names one.
	ConfigPath = "/etc/ocicred/config.yaml"
	// Socket is where the daemon listens unless the config, --socket or
	// OCICRED_SOCKET says otherwise.
	Socket = "/run/ocicred/ocicred.sock"
	// StateDir keeps root's ECR tokens across restarts: the unit's
	// StateDirectory.
	StateDir = "/var/lib/ocicred"
)

// Environment variables.
const (
	// EnvConfig names the config file, for every program.
	EnvConfig = "OCICRED_CONFIG"
	// EnvSocket names the daemon's socket, for every program.
	EnvSocket = "OCICRED_SOCKET"
	// EnvCacheDir names the token cache folder.
	EnvCacheDir = "OCICRED_CACHE_DIR"
	// EnvDebug, when not empty, makes the helper say on stderr where each
	// answer came from.
	EnvDebug = "OCICRED_DEBUG"
)
