package resolve

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/ocicred/ocicred/config"
	"github.com/ocicred/ocicred/internal/cachedir"
	"github.com/ocicred/ocicred/internal/hostkey"
	"github.com/ocicred/ocicred/internal/tokencache"
)

// newRecord is what the helper may answer without running `ocicred get`
// once reg's token is in the cache: what this answer depends on, stamped
// before reg's secrets are read. It is nil when the answer must not be
// recorded: a Basic registry (its password would go to disk), a registry
// with an allow list (the answer depends on the caller's groups and the
// user database), a config that could not be stamped, or one with more
// files than the index keeps.
func newRecord(reg *config.Registry, cfg *config.Config, cfgStamp cachedir.Stamp, stampErr error) *cachedir.Answer {
	if stampErr != nil || reg.Type == config.TypeBasic || !reg.IsProtected() || len(reg.Allow) > 0 {
		return nil
	}
	socket := cfg.Socket
	if socket == "" {
		socket = config.DefaultSocket
	}
	a := &cachedir.Answer{Registry: reg.Name, User: reg.User(), Socket: socket, Config: cfgStamp, Env: envNames(reg)}
	// The files of reg alone: those of other registries do not change
	// this answer (they are not read for it).
	files := (&config.Config{Registries: []*config.Registry{reg}}).Files()
	if len(files) > cachedir.MaxFiles {
		return nil
	}
	for _, f := range files {
		s, err := cachedir.StampFile(f)
		if err != nil {
			return nil
		}
		a.Files = append(a.Files, s)
	}
	return a
}

// record keeps a, the answer just given for host, in the cache folder's
// index, naming the token file this source reads and writes for reg. Failing
// to record only costs the next helper call a run of `ocicred get`, so it
// is said only when not quiet.
func (t *cachedTokens) record(a *cachedir.Answer, reg *config.Registry, host string) {
	if a == nil || t.cache == nil {
		return
	}
	key, err := hostkey.Key(host)
	if err != nil {
		return
	}
	a.Host = key
	a.Token = tokencache.Name(t.keyOf(reg))
	if err := cachedir.Record(t.dir, *a, os.LookupEnv, time.Now()); err != nil {
		fmt.Fprintf(t.log, "registry %s: answer not indexed for the helper: %v\n", a.Registry, err)
	}
}

// envNames are the variables reg's secrets come from: every string field
// whose YAML name ends in "Env" (passwordEnv, secretAccessKeyEnv, keyEnv,
// clientSecretEnv, and any added later), in reg and its credentials chain.
// They are what the token's cache file name (tokensource.KeyOf) may depend
// on besides the config and its files; a cache key that read a variable the
// config does not name would have to add it here.
func envNames(reg *config.Registry) []string {
	names := envFields(reflect.ValueOf(reg).Elem())
	for c := reg.Credentials; c != nil; c = c.Base {
		names = append(names, envFields(reflect.ValueOf(c).Elem())...)
	}
	return names
}

func envFields(v reflect.Value) []string {
	var out []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.Type.Kind() == reflect.String && strings.HasSuffix(tag, "Env") && v.Field(i).String() != "" {
			out = append(out, v.Field(i).String())
		}
	}
	return out
}
