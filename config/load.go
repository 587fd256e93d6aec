package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// maxFile bounds the size of a configuration file.
const maxFile = 4 << 20

// ErrWorldReadable is returned by CheckMode.
var ErrWorldReadable = errors.New("config file holds an inline secret and is readable by other users")

// Read reads and parses a file without resolving its secrets: what a caller
// needs that only matches server addresses (the helper's list, the
// daemon-less fallback, which resolves just the registry it answers for).
func Read(path string) (*Config, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	return Parse(data, path)
}

// Load reads, parses and validates a file and resolves all its secrets.
func Load(path string) (*Config, error) {
	c, err := Read(path)
	if err != nil {
		return nil, err
	}
	if err := c.ResolveSecrets(OS); err != nil {
		return nil, err
	}
	return c, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no such file; create it (see README, Configuration) or pass --config")
		}
		return nil, fmt.Errorf("cannot open: %w", unwrapPath(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, errors.New("is a folder; --config takes a file")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if len(data) > maxFile {
		return nil, errors.New("larger than 4 MiB; is this the right file?")
	}
	return data, nil
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
