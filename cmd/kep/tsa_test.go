package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
)

// TestSignTSA: kep sign --tsa makes a CAdES-T signature that kep verify
// --profile cades-t accepts; a TSA that is down fails the run and leaves
// the old signature file untouched.
func TestSignTSA(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.TC26256A, "TSA user")
	tsa := p.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("time-stamped"), 0o644)
	if _, stderr, code := execute(t, nil, "sign", "--key", id.KeyFile, "--cert", id.CertFile, "--tsa", tsa.URL, doc); code != 0 {
		t.Fatalf("sign: %s", stderr)
	}
	verifyArgs := []string{"verify", "--revocation", "off", "--content", doc, "--trust", p.Root.CertFile, "--profile", "cades-t", doc + ".sig"}
	if out, stderr, code := execute(t, nil, verifyArgs...); code != 0 {
		t.Fatalf("verify: %d %s %s", code, out, stderr)
	}
	good, _ := os.ReadFile(doc + ".sig")

	// Without the time-stamp the CAdES-T profile fails.
	plain := filepath.Join(dir, "plain.sig")
	execute(t, nil, "sign", "--key", id.KeyFile, "--cert", id.CertFile, "-o", plain, doc)
	if _, _, code := execute(t, nil, append(verifyArgs[:len(verifyArgs)-1], plain)...); code != exitFail {
		t.Errorf("CAdES-T without a time-stamp: exit %d, want 1", code)
	}

	if _, _, code := execute(t, nil, "sign", "--key", id.KeyFile, "--cert", id.CertFile, "--tsa", "http://"+closedAddr(t)+"/tsp", doc); code == 0 {
		t.Fatal("signing with a TSA that is down succeeded")
	}
	if now, _ := os.ReadFile(doc + ".sig"); string(now) != string(good) {
		t.Error("the failed run changed the existing signature")
	}
	if _, _, code := execute(t, nil, "sign", "--key", id.KeyFile, "--cert", id.CertFile, "--tsa", "ftp://x", doc); code != exitUsage {
		t.Errorf("--tsa ftp://: exit %d, want 2", code)
	}
}
