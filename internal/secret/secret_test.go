package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	const pw = "hunter2-do-not-print"
	s := New(pw)
	type wrapper struct {
		User string
		Pass Secret
	}
	w := wrapper{User: "u", Pass: s}

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "secret", s, "nested", w)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "secret", s, "nested", w)
	js, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	outputs := []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", w, w, w), string(js), logs.String(),
	}
	for _, out := range outputs {
		if strings.Contains(out, pw) {
			t.Errorf("secret leaked in %q", out)
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("output %q does not say %s", out, Redacted)
		}
	}
	if s.Reveal() != pw {
		t.Errorf("Reveal() = %q, want the secret", s.Reveal())
	}
	if s.IsZero() || !New("").IsZero() {
		t.Error("IsZero is wrong")
	}
}
