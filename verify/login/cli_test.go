package login

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/internal/testpki"
)

// TestCLI builds the kep binary and runs the login as separate processes:
// challenge, sign, verify (accepted), verify again (refused: replayed) —
// with the default file store, both formats, and Redis.
func TestCLI(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "kep")
	build := exec.Command("go", "build", "-o", bin, "github.com/kepkit/kep/cmd/kep")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := testpki.New(t)
	user := issue(t, p, qualifiedSubj, extLogin, 3650)
	nonceDir := filepath.Join(dir, "nonces")
	run := func(stdin []byte, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "KEP_NONCE_DIR="+nonceDir)
		cmd.Stdin = bytes.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return out.String(), errb.String(), cmd.ProcessState.ExitCode()
	}
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	redisURL := startRedis(t)

	for _, tc := range []struct {
		format string
		store  []string
	}{
		{"bound", nil},
		{"esia-compatible", nil},
		{"bound", []string{"--nonce-store", redisURL}},
		{"bound", []string{"--nonce-store", filepath.Join(dir, "other-store")}},
	} {
		out, errOut, code := run(nil, append([]string{"login", "challenge", "--origin", "https://Portal.Example.RU"}, tc.store...)...)
		if code != 0 {
			t.Fatalf("challenge: %d %s", code, errOut)
		}
		ch, err := ParseChallenge([]byte(out))
		if err != nil || ch.Origin != defaultOrigin {
			t.Fatalf("challenge %s: %v", out, err)
		}
		chFile := write("challenge.json", out)
		resp, errOut, code := run(nil, "login", "sign", "--key", user.KeyFile, "--cert", user.CertFile, "--format", tc.format, chFile)
		if code != 0 {
			t.Fatalf("sign: %d %s", code, errOut)
		}
		verifyArgs := append([]string{"login", "verify", "--revocation", "off", "--origin", defaultOrigin, "--trust", p.Root.CertFile}, tc.store...)
		out, errOut, code = run([]byte(resp), append(verifyArgs, "-")...)
		if code != 0 {
			t.Fatalf("verify %s %v: %d %s %s", tc.format, tc.store, code, out, errOut)
		}
		var id Identity
		if err := json.Unmarshal([]byte(out), &id); err != nil || id.SNILS != "11223344595" || id.Surname != "Иванов" || string(id.Format) != tc.format {
			t.Fatalf("identity %s: %v", out, err)
		}
		out, errOut, code = run([]byte(resp), append(verifyArgs, "-")...)
		var r struct {
			Refused bool
			RefusalError
		}
		if err := json.Unmarshal([]byte(out), &r); code != 1 || err != nil || !r.Refused || r.Reason != ReasonNonceUnknown || !strings.Contains(r.Detail, "replayed") ||
			!strings.Contains(errOut, "NONCE_UNKNOWN") {
			t.Fatalf("replay: %d %s %s", code, out, errOut)
		}
	}

	// A bare challenge string, esia-compatible; --bound-only refuses it.
	out, _, _ := run(nil, "login", "challenge", "--origin", "http://localhost:8080")
	ch, err := ParseChallenge([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	resp, errOut, code := run([]byte(ch.Nonce+"\n"), "login", "sign", "--key", user.KeyFile, "--cert", user.CertFile, "--format", "esia-compatible", "-")
	if code != 0 {
		t.Fatalf("sign string: %d %s", code, errOut)
	}
	respFile := write("resp.json", resp)
	if out, _, code := run(nil, "login", "verify", "--revocation", "off", "--origin", "http://localhost:8080", "--trust", p.Root.CertFile, "--bound-only", respFile); code != 1 || !strings.Contains(out, `"FORMAT"`) {
		t.Fatalf("bound-only: %d %s", code, out)
	}

	// Indeterminate: revocation required, no CRL → exit 3.
	out, _, _ = run(nil, "login", "challenge", "--origin", defaultOrigin)
	chFile := write("challenge2.json", out)
	resp, _, _ = run(nil, "login", "sign", "--key", user.KeyFile, "--cert", user.CertFile, chFile)
	if out, _, code := run([]byte(resp), "login", "verify", "--revocation", "off", "--origin", defaultOrigin, "--trust", p.Root.CertFile, "--require-revocation", "-"); code != 3 || !strings.Contains(out, `"INDETERMINATE"`) {
		t.Fatalf("require revocation: %d %s", code, out)
	}

	// A clock 10 minutes off: nothing is signed unless --ignore-skew.
	var skewed Challenge
	json.Unmarshal([]byte(out), &skewed)
	skewed.ServerTime = skewed.ServerTime.Add(-10 * time.Minute)
	sb, _ := json.Marshal(skewed)
	skewFile := write("skewed.json", string(sb))
	if out, errOut, code := run(nil, "login", "sign", "--key", user.KeyFile, "--cert", user.CertFile, skewFile); code != 1 || out != "" || !strings.Contains(errOut, "--ignore-skew") {
		t.Fatalf("skew: %d %q %s", code, out, errOut)
	}
	if _, errOut, code := run(nil, "login", "sign", "--key", user.KeyFile, "--cert", user.CertFile, "--ignore-skew", skewFile); code != 0 {
		t.Fatalf("--ignore-skew: %d %s", code, errOut)
	}

	// Usage errors.
	for _, args := range [][]string{
		{"login", "challenge"},
		{"login", "challenge", "--origin", "http://example.ru"},
		{"login", "verify", "--revocation", "off", "--origin", defaultOrigin, respFile},
		{"login", "sign", "--key", user.KeyFile, "--cert", user.CertFile, "--format", "xml", chFile},
		{"login", "sign", "--key", user.KeyFile, "--cert", user.CertFile, respFile},
	} {
		if _, errOut, code := run(nil, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}
