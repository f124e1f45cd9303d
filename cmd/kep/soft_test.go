package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
)

// TestSoftCLI: init a software token, import a GOST key and certificate, list
// it, sign with it (by id and by thumbprint) and check the signature with
// openssl; a wrong PIN fails clearly and writes nothing.
func TestSoftCLI(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "Soft user")
	dir := t.TempDir()
	tokDir := filepath.Join(dir, "token")
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("4321\n"), 0o600)
	if _, stderr, code := execute(t, nil, "soft", "init", tokDir, "--label", "test", "--pin-file", pinFile); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	if _, stderr, code := execute(t, nil, "soft", "import", tokDir, "--key", id.KeyFile, "--cert", id.CertFile, "--pin-file", pinFile); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	out, stderr, code := execute(t, nil, "soft", "list", tokDir, "--json")
	if code != 0 {
		t.Fatalf("list: %d %s", code, stderr)
	}
	var list []struct{ ID, Thumbprint string }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].Thumbprint != id.Cert.Thumbprint() {
		t.Fatalf("list: %v %s", err, out)
	}
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("signed with the software token"), 0o644)
	for _, sel := range []string{list[0].ID, list[0].Thumbprint} {
		if _, stderr, code := execute(t, nil, "sign", "--soft", tokDir, "--cert", sel, "--pin-file", pinFile, doc); code != 0 {
			t.Fatalf("sign --cert %s: %d %s", sel, code, stderr)
		}
		if _, err := p.O.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", doc+".sig", "-content", doc,
			"-CAfile", p.Root.CertFile, "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Fatalf("openssl rejects the soft-token signature: %v", err)
		}
	}
	os.Remove(doc + ".sig")
	os.WriteFile(pinFile, []byte("0000\n"), 0o600)
	_, stderr, code = execute(t, nil, "sign", "--soft", tokDir, "--cert", list[0].ID, "--pin-file", pinFile, doc)
	if code == 0 || !strings.Contains(strings.ToLower(stderr), "pin") {
		t.Fatalf("wrong PIN: %d %s", code, stderr)
	}
	if _, err := os.Stat(doc + ".sig"); err == nil {
		t.Fatal("a failed signature left a file")
	}
}
