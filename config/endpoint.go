package config

import "github.com/ocicred/ocicred/internal/hostkey"

// ErrBadAddress is the kind of error HostKey returns.
var ErrBadAddress = hostkey.ErrBadAddress

// HostKey turns a server address as clients send it (a bare host:port,
// https://host/v1/, host/repo/image) into the key registries are matched
// on: host[:port], lower case, without scheme, path or trailing slash.
func HostKey(addr string) (string, error) { return hostkey.Key(addr) }

// Lookup finds the registry a server address belongs to.
func (c *Config) Lookup(addr string) (*Registry, bool) {
	host, err := HostKey(addr)
	if err != nil {
		return nil, false
	}
	if c.byHost != nil {
		r, ok := c.byHost[host]
		return r, ok
	}
	for _, r := range c.Registries {
		if r.Host == host {
			return r, true
		}
	}
	return nil, false
}

// Registry finds a registry by name.
func (c *Config) Registry(name string) (*Registry, bool) {
	for _, r := range c.Registries {
		if r.Name == name {
			return r, true
		}
	}
	return nil, false
}
