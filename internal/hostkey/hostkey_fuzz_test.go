package hostkey

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzKey holds that a key is its own key and has the key's shape (lower
// case, no scheme, no path), that a refusal says "invalid server address"
// and names the input (through Printable, so without user information), and that Printable never lets a control character
// through to a terminal.
func FuzzKey(f *testing.F) {
	for _, s := range []string{
		"https://index.docker.io/v1/", "127.0.0.1:5000", "[::1]:80", "HTTP://Harbor.Example.COM:8443/v2/", "h/x",
		"public.ecr.aws/a/b:c", " registry-1.docker.io ", "[fe80::1", "host:0", "host:", "a..b", "\x00", "é.example",
		strings.Repeat("a", 64) + ".example", strings.Repeat("x", 100) + "\x1b[31m",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		checkPrintable(t, addr)
		k, err := Key(addr)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) {
				t.Fatalf("Key(%q): error %v is not ErrBadAddress", addr, err)
			}
			if !strings.HasPrefix(err.Error(), "invalid server address ") {
				t.Fatalf("Key(%q): error %q does not start with \"invalid server address\"", addr, err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(Printable(addr))) {
				t.Fatalf("Key(%q): error %q does not name the address", addr, err)
			}
			if hasControl(err.Error()) {
				t.Fatalf("Key(%q): error %q holds a control character", addr, err)
			}
			return
		}
		switch {
		case k == "":
			t.Fatalf("Key(%q) is empty without an error", addr)
		case strings.ContainsFunc(k, unicode.IsUpper):
			t.Fatalf("Key(%q) = %q holds upper case", addr, k)
		case strings.ContainsAny(k, "/?# \t\r\n"):
			t.Fatalf("Key(%q) = %q holds a path, query or space", addr, k)
		case strings.Contains(k, "://"):
			t.Fatalf("Key(%q) = %q holds a scheme", addr, k)
		}
		k2, err := Key(k)
		if err != nil || k2 != k {
			t.Fatalf("Key(%q) = %q, but Key(%q) = %q, %v", addr, k, k, k2, err)
		}
		scheme, host, err := Split(addr)
		if err != nil || host != k || scheme != strings.ToLower(scheme) {
			t.Fatalf("Split(%q) = %q, %q, %v; Key gave %q", addr, scheme, host, err, k)
		}
	})
}

// checkPrintable holds what an error message needs of Printable: valid
// UTF-8, no control character (C0, DEL or C1), at most 80 bytes of input
// and an ellipsis, no user information.
func checkPrintable(t *testing.T, s string) {
	t.Helper()
	p := Printable(s)
	if !utf8.ValidString(p) {
		t.Fatalf("Printable(%q) = %q is not valid UTF-8", s, p)
	}
	if hasControl(p) {
		t.Fatalf("Printable(%q) = %q holds a control character", s, p)
	}
	if len(p) > 80+len("…") {
		t.Fatalf("Printable(%q) is %d bytes long", s, len(p))
	}
	if HasUserInfo(s) && strings.Contains(p, "@") && !strings.Contains(p, "…@") {
		t.Fatalf("Printable(%q) = %q keeps the user information", s, p)
	}
	if len(s) <= 80 && utf8.ValidString(s) && !hasControl(s) && !strings.ContainsRune(s, utf8.RuneError) && !HasUserInfo(s) && p != s {
		t.Fatalf("Printable(%q) = %q changed a short printable text", s, p)
	}
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

func TestAddressErrorHidesUserInfo(t *testing.T) {
	for _, addr := range []string{"https://robot:Pw-9xZ@harbor.example", "robot:Pw-9xZ@harbor.example:8443/v2/", "Pw-9xZ@h"} {
		_, err := Key(addr)
		var ae *AddressError
		if !errors.As(err, &ae) || strings.Contains(err.Error(), "Pw-9xZ") || !strings.Contains(err.Error(), "user name or password") {
			t.Errorf("Key(<address with a password>) = %v", strings.ReplaceAll(fmtErr(err), "Pw-9xZ", "<PASSWORD>"))
		}
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// A secret before a "://" that is no scheme is user information too, and
// Printable hides it (found by FuzzKey: testdata/fuzz/FuzzKey/6a06fc9312a3fd2d).
func TestUserInfoBeforeABogusScheme(t *testing.T) {
	const addr = "robot:Pw-9xZ@harbor.example://@x"
	if !HasUserInfo(addr) {
		t.Error("HasUserInfo = false")
	}
	if p := Printable(addr); strings.Contains(p, "Pw-9xZ") {
		t.Errorf("Printable = %q shows the password", p)
	}
	if _, err := Key(addr); err == nil || strings.Contains(err.Error(), "Pw-9xZ") {
		t.Errorf("Key = %v; want a refusal that does not show the password", err)
	}
}
