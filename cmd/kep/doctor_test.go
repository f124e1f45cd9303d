package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/demopki"
)

// TestDoctorCLI: on the demo PKI, kep doctor finds the agent stopped (an
// error: exit 1) and reports in the language asked; --json has the codes.
func TestDoctorCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if _, stderr, code := execute(t, nil, "demo", "init", dir); code != 0 {
		t.Fatal(stderr)
	}
	closed := closedAddr(t)
	port := closed[strings.LastIndexByte(closed, ':')+1:]
	base := []string{"doctor", "--soft", filepath.Join(dir, "token"), "--no-discover", "--trust", filepath.Join(dir, "ca.pem"),
		"--revocation", "off", "--agent-port", port}
	out, _, code := execute(t, nil, append(base, "--lang", "ru")...)
	if code != exitFail || !strings.Contains(out, "AGENT_UNREACHABLE: Программа kep не запущена") || !strings.Contains(out, "CERT_OK") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	out, _, code = execute(t, nil, append(base, "--json")...)
	var r struct {
		Findings []struct{ Code, Severity string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != exitFail {
		t.Fatalf("json: %v exit %d\n%s", err, code, out)
	}
	ok := 0
	for _, f := range r.Findings {
		if f.Code == "CERT_OK" {
			ok++
		}
	}
	if ok != 3 {
		t.Errorf("%d CERT_OK findings, want 3: %+v", ok, r.Findings)
	}
	// Without the agent check, nothing is an error: exit 0.
	if out, _, code := execute(t, nil, append(base[:len(base)-2], "--agent-port", "0", "--lang", "en")...); code != exitOK || !strings.Contains(out, "0 error(s)") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// TestLoginSignSoft: kep login sign --soft answers a challenge with the demo
// token's key, and kep login verify (in the same nonce store) accepts it once.
func TestLoginSignSoft(t *testing.T) {
	dir := t.TempDir()
	demo := filepath.Join(dir, "demo")
	if _, stderr, code := execute(t, nil, "demo", "init", demo); code != 0 {
		t.Fatal(stderr)
	}
	t.Setenv("KEP_NONCE_DIR", filepath.Join(dir, "nonces"))
	t.Setenv("KEP_PIN", "12345678")
	ch, stderr, code := execute(t, nil, "login", "challenge", "--origin", "https://portal.example.ru")
	if code != 0 {
		t.Fatal(stderr)
	}
	m, err := demopki.Load(demo)
	if err != nil {
		t.Fatal(err)
	}
	resp, stderr, code := execute(t, []byte(ch), "login", "sign", "--soft", filepath.Join(demo, "token"), "--cert", m.Identities[0].Thumbprint, "-")
	if code != 0 {
		t.Fatalf("login sign --soft: %s", stderr)
	}
	verifyArgs := []string{"login", "verify", "--revocation", "off", "--trust-list", "none", "--origin", "https://portal.example.ru", "--trust", filepath.Join(demo, "ca.pem"), "-"}
	if out, stderr, code := execute(t, []byte(resp), verifyArgs...); code != 0 || !strings.Contains(out, "11223344595") {
		t.Fatalf("login verify: %d %s %s", code, out, stderr)
	}
	if _, _, code := execute(t, []byte(resp), verifyArgs...); code != exitFail {
		t.Errorf("a replayed response: exit %d, want 1", code)
	}
}
