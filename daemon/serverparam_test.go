package daemon

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzServerParam holds serverParam to what u.Query().Get("server") says
// for any query, and the same for a query with too many parameters for it
// to read itself.
func FuzzServerParam(f *testing.F) {
	for _, q := range []string{"", "server=a", "server=a&server=b", "x=1&server=%2Fb", "server=%zz&server=c", "server;=a&server=b",
		"se%72ver=x", "server", "&&server=&", "server=a+b", "server=a;b&server=c", "%=1&server=d", "server=" + strings.Repeat("&", 70) + "server=e"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		u := &url.URL{Path: "/v1/credentials", RawQuery: q}
		if got, want := serverParam(u), u.Query().Get("server"); got != want {
			t.Fatalf("serverParam(%q) = %q, want %q as url.Values has it", q, got, want)
		}
	})
}
