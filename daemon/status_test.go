package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ocicred/ocicred/internal/localapi"
)

// TestWriteStatusIsEncodingJSON holds writeStatus to the bytes
// json.Encoder gives for the whole localapi.Status (the answer the daemon
// sent before it streamed): escapes, empty and omitted fields, no
// registry, one, and more than its buffer holds.
func TestWriteStatusIsEncodingJSON(t *testing.T) {
	odd := localapi.RegistryStatus{Name: `a "quoted" <name> & ünïcode`, Type: "ecr", Endpoint: "1.dkr.ecr.us-east-1.amazonaws.com",
		State: localapi.StateError, LastError: "line\nbreak\ttab \u2028", Note: "x; y", ClockSkewSeconds: -3}
	many := make([]localapi.RegistryStatus, 2*statusBuffer/100)
	for i := range many {
		many[i] = localapi.RegistryStatus{Name: strings.Repeat("n", i%50), Type: "basic", Endpoint: "registry.example.com", State: localapi.StateStatic}
	}
	for name, regs := range map[string][]localapi.RegistryStatus{
		"none": nil,
		"one":  {odd},
		"many": append([]localapi.RegistryStatus{odd}, many...),
	} {
		t.Run(name, func(t *testing.T) {
			var want, got bytes.Buffer
			whole := localapi.Status{Config: "/etc/ocicred/<config>.yaml", ConfigError: "bad & worse", Registries: regs}
			if whole.Registries == nil {
				whole.Registries = []localapi.RegistryStatus{} // the daemon never sent null
			}
			if err := json.NewEncoder(&want).Encode(whole); err != nil {
				t.Fatal(err)
			}
			if err := writeStatus(&got, whole.Config, whole.ConfigError, slices.Values(regs)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("writeStatus wrote\n%.300s\nencoding/json writes\n%.300s", got.Bytes(), want.Bytes())
			}
		})
	}
}

// TestWriteStatusStopsOnWriteError: a client gone is the error, and the
// registries after it are not worked out.
func TestWriteStatusStopsOnWriteError(t *testing.T) {
	asked := 0
	regs := func(yield func(localapi.RegistryStatus) bool) {
		for {
			asked++
			if !yield(localapi.RegistryStatus{Name: strings.Repeat("r", 200)}) {
				return
			}
			if asked > 1e6 {
				t.Fatal("writeStatus did not stop at the write error")
			}
		}
	}
	err := writeStatus(failingWriter{}, "c", "", regs)
	if !errors.Is(err, net.ErrClosed) {
		t.Errorf("writeStatus error = %v, want the writer's", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, net.ErrClosed }

// TestStatusAnswerMatchesStatus: the socket's answer decodes to what
// Daemon.Status reports, for a config larger than one write.
func TestStatusAnswerMatchesStatus(t *testing.T) {
	var cfg strings.Builder
	cfg.WriteString("registries:\n")
	for i := range 400 {
		cfg.WriteString(basicConfig("r"+strconv.Itoa(i), "registry-"+strconv.Itoa(i)+".example.com", "pw"))
	}
	cfg.WriteString("  - {name: pub, type: ecr, endpoint: public.ecr.aws, protected: false}\n")
	td := startDaemon(t, cfg.String())
	got, err := td.client.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := td.d.Status()
	if len(got.Registries) != 401 || !slices.Equal(got.Registries, want.Registries) || got.Config != want.Config || got.ConfigError != want.ConfigError {
		t.Errorf("status answer differs from Daemon.Status: %d registries against %d", len(got.Registries), len(want.Registries))
	}
}
