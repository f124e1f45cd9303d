package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
)

// TestSignProfile: kep sign --profile. cades-t with --tsa verifies as
// CAdES-T; a profile beyond BES without --tsa, an unknown profile and --ca
// without xlt1 are usage errors; xlt1 for a certificate that names no OCSP
// responder or CRL fails (hard-fail: no X-L1 without revocation data) and
// writes nothing. (The full X-L1 round trip against loopback CRL/OCSP/TSA
// servers is sign's TestXLT1.)
func TestSignProfile(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.TC26256A, "profile user")
	tsa := p.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("profiles"), 0o644)
	base := []string{"sign", "--key", id.KeyFile, "--cert", id.CertFile}
	if _, stderr, code := execute(t, nil, append(base, "--profile", "cades-t", "--tsa", tsa.URL, doc)...); code != 0 {
		t.Fatalf("--profile cades-t: %s", stderr)
	}
	if out, stderr, code := execute(t, nil, "verify", "--revocation", "off", "--content", doc, "--trust", p.Root.CertFile, "--profile", "cades-t", doc+".sig"); code != 0 {
		t.Fatalf("verify the cades-t: %d %s %s", code, out, stderr)
	}
	for _, args := range [][]string{
		{"--profile", "cades-t", doc},
		{"--profile", "xlt1", doc},
		{"--profile", "xlt9", "--tsa", tsa.URL, doc},
		{"--ca", p.Root.CertFile, "--tsa", tsa.URL, doc},
	} {
		if _, _, code := execute(t, nil, append(base, args...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	out := filepath.Join(dir, "xl.sig")
	_, stderr, code := execute(t, nil, append(base, "--profile", "xlt1", "--tsa", tsa.URL, "--ca", p.Root.CertFile, "-o", out, doc)...)
	if code != exitFail || !strings.Contains(stderr, "revocation data") {
		t.Errorf("xlt1 without revocation addresses: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed xlt1 run wrote a file")
	}
}
