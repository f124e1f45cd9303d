package main

import (
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
)

const softhsmLib = "/usr/lib/softhsm/libsofthsm2.so"

// TestTokenCLI puts an ECDSA key and its certificate on a SoftHSM token with
// pkcs11-tool, then lists it with kep tokens and signs with kep sign --module;
// openssl cms verifies the result.
func TestTokenCLI(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.ECDSAP256, "Token user")
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("softhsm2-util", "--init-token", "--free", "--label", "kep-cli", "--so-pin", "12345678", "--pin", "1234")
	keyDER := pemFileDER(t, id.KeyFile)
	certDER := pemFileDER(t, id.CertFile)
	os.WriteFile(filepath.Join(dir, "key.der"), keyDER, 0o600)
	os.WriteFile(filepath.Join(dir, "cert.der"), certDER, 0o600)
	base := []string{"--module", softhsmLib, "--token-label", "kep-cli", "--login", "--pin", "1234", "--id", "a1"}
	run("pkcs11-tool", append(base, "--write-object", filepath.Join(dir, "key.der"), "--type", "privkey")...)
	run("pkcs11-tool", append(base, "--write-object", filepath.Join(dir, "cert.der"), "--type", "cert")...)

	out, stderr, code := execute(t, nil, "tokens", "--module", softhsmLib, "--json")
	if code != 0 {
		t.Fatalf("tokens: %d %s", code, stderr)
	}
	var mods []struct {
		Path   string
		Loaded bool
		Tokens []struct{ Label string }
	}
	if err := json.Unmarshal([]byte(out), &mods); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := false
	for _, m := range mods {
		for _, tk := range m.Tokens {
			found = found || (m.Path == softhsmLib && m.Loaded && tk.Label == "kep-cli")
		}
	}
	if !found {
		t.Fatalf("kep tokens does not list the SoftHSM token:\n%s", out)
	}

	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("signed on a token"), 0o644)
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("1234\n"), 0o600)
	for _, sel := range []string{"A1", id.Cert.Thumbprint()} {
		if _, stderr, code := execute(t, nil, "sign", "--module", softhsmLib, "--token", "kep-cli", "--cert", sel, "--pin-file", pinFile, doc); code != 0 {
			t.Fatalf("sign --cert %s: %d %s", sel, code, stderr)
		}
		if _, err := p.O.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", doc+".sig", "-content", doc,
			"-CAfile", p.Root.CertFile, "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Fatalf("openssl rejects the token signature: %v", err)
		}
	}
	// A wrong PIN is a clear failure and writes nothing.
	os.Remove(doc + ".sig")
	os.WriteFile(pinFile, []byte("0000\n"), 0o600)
	_, stderr, code = execute(t, nil, "sign", "--module", softhsmLib, "--cert", "a1", "--pin-file", pinFile, doc)
	if code == 0 || !strings.Contains(strings.ToLower(stderr), "pin") {
		t.Fatalf("wrong PIN: %d %s", code, stderr)
	}
	if _, err := os.Stat(doc + ".sig"); err == nil {
		t.Fatal("a failed token signature left a file")
	}
	if _, _, code := execute(t, nil, "sign", "--module", softhsmLib, "--cert", "ff", "--pin-file", pinFile, doc); code == 0 {
		t.Fatal("unknown certificate id accepted")
	}
}

func pemFileDER(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: not PEM", path)
	}
	return blk.Bytes
}
