package config

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/ocicred/ocicred/internal/localfile"
)

// maxFile bounds the size of a configuration file.
const maxFile = 4 << 20

// ErrWorldReadable is returned by CheckMode.
var ErrWorldReadable = errors.New("config file holds an inline secret and is readable by other users")

// Read reads and parses a file without resolving its secrets: what a caller
// needs that only matches server addresses (the helper's list, the
// daemon-less fallback, which resolves just the registry it answers for).
// The file is read as ReadSecretFile reads a secret (regular files only,
// without blocking, within FileTimeout), up to 4 MiB; Config.Mode is the
// mode of the file that was read.
func Read(path string) (*Config, error) {
	data, mode, err := readLimited(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.Mode = mode
	return c, nil
}

// Load reads, parses and validates a file, checks it against this machine
// (the groups and users it names, its CA and secret files, its own mode:
// checkMachine) and resolves all its secrets. It is what the daemon runs at
// start and on every reload, and what `ocicred config validate` runs, so
// that validate refuses exactly what the daemon would. Every error comes
// at once, as Errors sorted by position.
func Load(path string) (*Config, error) {
	return load(path, OS)
}

func load(path string, src Sources) (*Config, error) {
	data, mode, err := readLimited(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	c, r := parseReport(data, path)
	if c != nil {
		c.Mode = mode
		checkMachine(c, src, r)
	}
	if len(r.errs) > 0 {
		sort.SliceStable(r.errs, func(i, j int) bool {
			a, b := r.errs[i], r.errs[j]
			return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
		})
		return nil, r.errs
	}
	c.finish()
	return c, nil
}

func readLimited(path string) ([]byte, fs.FileMode, error) {
	var mode fs.FileMode
	keepMode := func(fi fs.FileInfo) error { mode = fi.Mode(); return nil }
	data, err := localfile.Rules{Limit: maxFile, Timeout: FileTimeout, Check: keepMode}.Read(path)
	switch {
	case err == nil:
		return data, mode, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, 0, fmt.Errorf("no such file; create it (see README, Configuration) or pass --config")
	case errors.Is(err, localfile.ErrNotRegular):
		return nil, 0, fmt.Errorf("is %w; --config takes a file", err)
	case errors.Is(err, localfile.ErrTooLarge):
		return nil, 0, errors.New("larger than 4 MiB; is this the right file?")
	case errors.Is(err, localfile.ErrTimeout):
		return nil, 0, fmt.Errorf("%w (waited %s); check the file system it is on", err, FileTimeout)
	}
	return nil, 0, fmt.Errorf("cannot open: %w", unwrapPath(err))
}

// CheckMode refuses a file that holds an inline secret and that other users
// may read (mode o+r).
func CheckMode(c *Config, mode fs.FileMode) error {
	if c.HasInlineSecrets() && mode.Perm()&0o004 != 0 {
		return fmt.Errorf("%s: %w (mode %04o); run chmod o-r on it, or move the secrets to passwordFile, passwordEnv, secretAccessKeyFile or secretAccessKeyEnv",
			c.File, ErrWorldReadable, mode.Perm())
	}
	return nil
}
