package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/internal/ossltest"
)

var ckaIDLine = regexp.MustCompile(`CKA_ID ([0-9a-f]+)`)

// TestTokenKeysCLI: keygen, csr and pin change on SoftHSM and on the
// software token; pkcs11-tool sees the generated key, openssl accepts the
// GOST and ECDSA requests, and only the new PIN works afterwards.
func TestTokenKeysCLI(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	if out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", "keys", "--so-pin", "12345678", "--pin", "1234").CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("1234\n"), 0o600)
	newPINFile := filepath.Join(dir, "new-pin")
	os.WriteFile(newPINFile, []byte("98765\n"), 0o600)
	softDir := filepath.Join(dir, "soft")
	if _, stderr, code := execute(t, nil, "soft", "init", softDir, "--pin-file", pinFile); code != 0 {
		t.Fatal(stderr)
	}
	o := ossltest.New(t)

	for _, target := range [][]string{{"--module", softhsmLib, "--token", "keys"}, {"--soft", softDir}} {
		name := target[0]
		// SoftHSM has no GOST mechanisms; the software token has.
		typ := "ecdsa-p256"
		if name == "--soft" {
			typ = "gost512"
		}
		out, stderr, code := execute(t, nil, append([]string{"tokens", "keygen", "--type", typ, "--label", "new key", "--pin-file", pinFile}, target...)...)
		if code != 0 {
			t.Fatalf("%s keygen: %d %s", name, code, stderr)
		}
		m := ckaIDLine.FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "BEGIN PUBLIC KEY") {
			t.Fatalf("%s keygen printed %q", name, out)
		}
		if name == "--module" {
			list, err := exec.Command("pkcs11-tool", "--module", softhsmLib, "--token-label", "keys", "--list-objects").CombinedOutput()
			if err != nil || !strings.Contains(string(list), "ID:         "+m[1]) {
				t.Errorf("pkcs11-tool does not see the key %s: %v\n%s", m[1], err, list)
			}
		}
		csr := filepath.Join(dir, strings.TrimPrefix(name, "--")+".csr")
		_, stderr, code = execute(t, nil, append([]string{"tokens", "csr", "--key-id", m[1], "--cn", "Иванов Иван Иванович", "--surname", "Иванов",
			"--given-name", "Иван Иванович", "--snils", "11223344595", "--inn", "500100732259", "-o", csr, "--pin-file", pinFile}, target...)...)
		if code != 0 {
			t.Fatalf("%s csr: %d %s", name, code, stderr)
		}
		if out, err := o.Run(nil, "req", "-in", csr, "-verify", "-noout", "-subject", "-nameopt", "utf8"); err != nil || !strings.Contains(string(out), "SNILS") && !strings.Contains(string(out), "11223344595") {
			t.Errorf("%s: openssl req -verify: %v\n%s", name, err, out)
		}
		// A bad СНИЛС is refused before the token is touched.
		if _, _, code := execute(t, nil, append([]string{"tokens", "csr", "--key-id", m[1], "--snils", "11223344596", "--pin-file", pinFile}, target...)...); code != 2 {
			t.Errorf("%s: bad СНИЛС: exit %d, want 2", name, code)
		}

		// PIN change: a wrong current PIN fails, the right one changes it.
		wrong := filepath.Join(dir, "wrong")
		os.WriteFile(wrong, []byte("0000\n"), 0o600)
		if _, _, code := execute(t, nil, append([]string{"tokens", "pin", "change", "--pin-file", wrong, "--new-pin-file", newPINFile}, target...)...); code != 1 {
			t.Errorf("%s: wrong current PIN: exit %d, want 1", name, code)
		}
		if _, stderr, code := execute(t, nil, append([]string{"tokens", "pin", "change", "--pin-file", pinFile, "--new-pin-file", newPINFile}, target...)...); code != 0 {
			t.Fatalf("%s: pin change: %s", name, stderr)
		}
		if _, _, code := execute(t, nil, append([]string{"tokens", "keygen", "--type", typ, "--pin-file", pinFile}, target...)...); code != 1 {
			t.Errorf("%s: the old PIN still works", name)
		}
		if _, stderr, code := execute(t, nil, append([]string{"tokens", "keygen", "--type", typ, "--pin-file", newPINFile}, target...)...); code != 0 {
			t.Errorf("%s: the new PIN does not work: %s", name, stderr)
		}
	}
}

// TestCertsListAndDemoInit: kep demo init makes the demo; kep certs list
// shows its three certificates with the qualified fields.
func TestCertsListAndDemoInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out, stderr, code := execute(t, nil, "demo", "init", dir)
	if code != 0 || !strings.Contains(out, "PIN "+demopki.PIN) {
		t.Fatalf("demo init: %d %s %s", code, out, stderr)
	}
	if _, _, code := execute(t, nil, "demo", "init", dir); code != 1 {
		t.Errorf("second demo init: exit %d, want 1", code)
	}
	out, stderr, code = execute(t, nil, "certs", "list", "--soft", filepath.Join(dir, "token"), "--no-discover", "--json")
	if code != 0 {
		t.Fatalf("certs list: %d %s", code, stderr)
	}
	var list []struct {
		Thumbprint  string `json:"thumbprint"`
		Key         string `json:"key"`
		Certificate struct {
			Qualified struct{ SNILS, OGRN string }
		} `json:"certificate"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 {
		t.Fatalf("certs list: %v %s", err, out)
	}
	m, err := demopki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	byThumb := map[string]bool{}
	for _, e := range list {
		byThumb[e.Thumbprint] = e.Key == "present"
	}
	for _, id := range m.Identities {
		if !byThumb[id.Thumbprint] {
			t.Errorf("%s (%s) missing or without key", id.Role, id.Thumbprint)
		}
	}
	text, _, _ := execute(t, nil, "certs", "list", "--soft", filepath.Join(dir, "token"), "--no-discover")
	for _, want := range []string{"СНИЛС: 11223344595", "ОГРН: ", "ООО «Ромашка»"} {
		if !strings.Contains(text, want) {
			t.Errorf("certs list text lacks %q", want)
		}
	}
}
