package cachedir

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocicred/ocicred/internal/secret"
)

const (
	testHost      = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
	testToken     = "ecr-test-token-value-must-stay-in-its-file"
	testKey       = "secret-key-value-must-never-reach-the-index"
	testTokenFile = "ecr-0123456789abcdef.json"
	testSocket    = "/run/ocicred/ocicred.sock"
)

var t0 = time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)

// fixture is a cache folder with a token and a recorded answer for
// testHost that depends on a config, a secret file and a variable.
type fixture struct {
	dir, config, secretFile string
	env                     map[string]string
}

func (f *fixture) lookupEnv(name string) (string, bool) { v, ok := f.env[name]; return v, ok }

func (f *fixture) query() Query {
	return Query{Host: testHost, ConfigPath: f.config, Socket: testSocket, LookupEnv: f.lookupEnv, Now: t0}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{dir: filepath.Join(root, "cache"), config: filepath.Join(root, "config.yaml"),
		secretFile: filepath.Join(root, "sk"), env: map[string]string{"OCICRED_TEST_SK": testKey}}
	write(t, f.config, "registries: []\n")
	write(t, f.secretFile, "first secret\n")
	if err := WriteToken(f.dir, testTokenFile, secret.New(testToken), t0.Add(12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.record(t)
	return f
}

func (f *fixture) record(t *testing.T) {
	t.Helper()
	cfg, err := StampFile(f.config)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := StampFile(f.secretFile)
	if err != nil {
		t.Fatal(err)
	}
	a := Answer{Host: testHost, Registry: "prod", User: "AWS", Token: testTokenFile, Socket: testSocket,
		Config: cfg, Files: []Stamp{sk}, Env: []string{"OCICRED_TEST_SK"}}
	if err := Record(f.dir, a, f.lookupEnv, t0); err != nil {
		t.Fatalf("Record: %v", err)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replace puts new content at path the way editors and secret rotations
// do: a new file renamed over the old one.
func replace(t *testing.T, path, data string) {
	t.Helper()
	write(t, path+".new", data)
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// A recorded answer is given back while everything it depended on holds,
// and the index holds neither the token nor the variable's value.
func TestLookupHit(t *testing.T) {
	f := newFixture(t)
	hit, err := Lookup(f.dir, f.query())
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if hit.User != "AWS" || hit.Registry != "prod" || hit.Password.Reveal() != testToken || !hit.ExpiresAt.Equal(t0.Add(12*time.Hour)) {
		t.Errorf("hit = %+v", hit)
	}
	data, err := os.ReadFile(filepath.Join(f.dir, IndexName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), testToken) || strings.Contains(string(data), testKey) {
		t.Error("the index holds a secret")
	}
	fi, err := os.Stat(filepath.Join(f.dir, IndexName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("index mode %v (%v), want 0600", fi.Mode(), err)
	}
}

// Anything the answer depended on that changed, or a token near its
// expiry, is a miss: the helper then runs `ocicred get`.
func TestLookupMisses(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, f *fixture, q *Query)
		reason string
	}{
		{"config edited in place", func(t *testing.T, f *fixture, _ *Query) { write(t, f.config, "registries: [] # edited\n") }, "changed"},
		{"config replaced, same size", func(t *testing.T, f *fixture, _ *Query) { replace(t, f.config, "registries: []\n") }, "changed"},
		{"config chmod", func(t *testing.T, f *fixture, _ *Query) {
			if err := os.Chmod(f.config, 0o640); err != nil {
				t.Fatal(err)
			}
		}, "changed"},
		{"config removed", func(t *testing.T, f *fixture, _ *Query) { _ = os.Remove(f.config) }, "changed"},
		{"secret file rotated", func(t *testing.T, f *fixture, _ *Query) { replace(t, f.secretFile, "second secret\n") }, "/sk changed"},
		{"secret link switched", func(t *testing.T, f *fixture, _ *Query) {
			// A Kubernetes Secret volume: the name is a link whose target is replaced.
			target := filepath.Join(filepath.Dir(f.secretFile), "..data-2")
			write(t, target, "first secret\n")
			_ = os.Remove(f.secretFile)
			if err := os.Symlink(target, f.secretFile); err != nil {
				t.Fatal(err)
			}
		}, "/sk changed"},
		{"variable changed", func(_ *testing.T, f *fixture, _ *Query) { f.env["OCICRED_TEST_SK"] = "another key" }, "$OCICRED_TEST_SK changed"},
		{"variable unset", func(_ *testing.T, f *fixture, _ *Query) { delete(f.env, "OCICRED_TEST_SK") }, "$OCICRED_TEST_SK changed"},
		{"other config path", func(_ *testing.T, _ *fixture, q *Query) { q.ConfigPath += ".other" }, "recorded for the config"},
		{"config names another socket", func(_ *testing.T, _ *fixture, q *Query) { q.Socket = "/tmp/other.sock" }, "names the socket"},
		{"other host", func(_ *testing.T, _ *fixture, q *Query) { q.Host = "other.example" }, "none recorded"},
		{"token near expiry", func(_ *testing.T, _ *fixture, q *Query) { q.Now = t0.Add(12*time.Hour - MinRemaining + time.Second) }, "no token with more than"},
		{"token removed", func(t *testing.T, f *fixture, _ *Query) { _ = os.Remove(filepath.Join(f.dir, testTokenFile)) }, "no token with more than"},
		{"index of another format", func(t *testing.T, f *fixture, _ *Query) { write(t, filepath.Join(f.dir, IndexName), `{"version":99}`) }, "format"},
		{"no index", func(t *testing.T, f *fixture, _ *Query) { _ = os.Remove(filepath.Join(f.dir, IndexName)) }, "no index"},
		{"recorded by another uid", func(t *testing.T, f *fixture, _ *Query) {
			editIndex(t, f, func(e *entry) { e.UID, e.EUID = 4242, 4242 })
		}, "recorded by uid 4242"},
		{"token name leaves the folder", func(t *testing.T, f *fixture, _ *Query) {
			editIndex(t, f, func(e *entry) { e.Token = "../" + testTokenFile })
		}, "not a name in the folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			q := f.query()
			tt.change(t, f, &q)
			_, err := Lookup(f.dir, q)
			var me *MissError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Lookup = %v; want a miss saying %q", err, tt.reason)
			}
			if err != nil && (strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), testKey)) {
				t.Error("the error shows a secret")
			}
		})
	}
}

// editIndex rewrites the recorded answer, as only this user could.
func editIndex(t *testing.T, f *fixture, edit func(*entry)) {
	t.Helper()
	path := filepath.Join(f.dir, IndexName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ix index
	if err := json.Unmarshal(data, &ix); err != nil {
		t.Fatal(err)
	}
	e := ix.Answers[testHost]
	edit(&e)
	ix.Answers[testHost] = e
	data, _ = json.Marshal(ix)
	write(t, path, string(data))
}

// An index (or a whole folder) that someone else could have written is
// refused with an *UnsafeError, never trusted: a folder open to others
// with an index planted in it, an index that is a link, an index of
// another user, a folder of another user.
func TestLookupRefusesWhatOthersCouldWrite(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, f *fixture)
		reason string
	}{
		{"folder open to others", func(t *testing.T, f *fixture) { chmod(t, f.dir, 0o1777) }, "is open to other users (mode 0777); chmod 700 it"},
		{"index open to others", func(t *testing.T, f *fixture) { chmod(t, filepath.Join(f.dir, IndexName), 0o666) }, "is open to other users (mode 0666)"},
		{"index is a link", func(t *testing.T, f *fixture) {
			index := filepath.Join(f.dir, IndexName)
			moved := filepath.Join(t.TempDir(), "planted.json")
			if err := os.Rename(index, moved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(moved, index); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
		{"folder is a link", func(t *testing.T, f *fixture) {
			moved := f.dir + ".real"
			if err := os.Rename(f.dir, moved); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(moved, f.dir); err != nil {
				t.Fatal(err)
			}
		}, "is a symbolic link"},
		{"index of another user", func(t *testing.T, f *fixture) { chown(t, filepath.Join(f.dir, IndexName)) }, "belongs to uid 65534"},
		{"folder of another user", func(t *testing.T, f *fixture) { chown(t, f.dir) }, "belongs to uid 65534"},
		{"token file open to others", func(t *testing.T, f *fixture) { chmod(t, filepath.Join(f.dir, testTokenFile), 0o644) }, "is open to other users (mode 0644)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.change(t, f)
			hit, err := Lookup(f.dir, f.query())
			var ue *UnsafeError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Lookup = %+v, %v; want an UnsafeError saying %q", hit, err, tt.reason)
			}
			if err := Record(f.dir, Answer{Host: "x.example", Token: testTokenFile}, f.lookupEnv, t0); !errors.As(err, &ue) && tt.name != "token file open to others" {
				t.Errorf("Record = %v; want an UnsafeError", err)
			}
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// chown gives path to uid 65534 (nobody), which only root can do.
func chown(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	if err := os.Lchown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
}

// The index keeps at most MaxAnswers answers, dropping the oldest, and
// records nothing for an answer with more than MaxFiles files.
func TestRecordBounds(t *testing.T) {
	f := newFixture(t)
	cfg, _ := StampFile(f.config)
	for i := range MaxAnswers + 5 {
		a := Answer{Host: "r" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".example", Token: testTokenFile, Config: cfg}
		if err := Record(f.dir, a, f.lookupEnv, t0.Add(time.Duration(i+1)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := readIndex(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Answers) != MaxAnswers {
		t.Errorf("%d answers kept, want %d", len(ix.Answers), MaxAnswers)
	}
	if _, ok := ix.Answers[testHost]; ok {
		t.Error("the oldest answer was kept")
	}
	many := Answer{Host: "many.example", Token: testTokenFile, Config: cfg, Files: make([]Stamp, MaxFiles+1)}
	if err := Record(f.dir, many, f.lookupEnv, t0); err != nil {
		t.Fatal(err)
	}
	if ix, _ := readIndex(f.dir); len(ix.Answers) != MaxAnswers || ix.Answers["many.example"].Token != "" {
		t.Error("an answer with too many files was recorded")
	}
}

// Recording the answer already recorded writes nothing (every run of
// `ocicred get` records); a changed one replaces it.
func TestRecordSameAnswerWritesNothing(t *testing.T) {
	f := newFixture(t)
	index := filepath.Join(f.dir, IndexName)
	before, err := StampFile(index)
	if err != nil {
		t.Fatal(err)
	}
	f.record(t)
	if after, _ := StampFile(index); after != before {
		t.Error("the same answer was written again")
	}
	write(t, f.secretFile, "second secret, longer\n")
	f.record(t)
	if after, _ := StampFile(index); after == before {
		t.Error("a changed answer was not written")
	}
	if _, err := Lookup(f.dir, f.query()); err != nil {
		t.Errorf("Lookup after the new record: %v", err)
	}
}
