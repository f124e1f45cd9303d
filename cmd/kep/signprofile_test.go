package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
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

// TestSignXLT1CLI: kep sign --profile xlt1 against a loopback CRL server
// and TSA, then kep verify with the server stopped and the default
// revocation policy (auto, hard-fail): exit 0, level X-L1.
func TestSignXLT1CLI(t *testing.T) {
	p := testpki.New(t)
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache")) // a CRL cache of the test's own
	var crl []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(crl) }))
	defer srv.Close()
	cdp := "crlDistributionPoints=URI:" + srv.URL + "/root.crl\n"
	o := p.O
	o.MustRun(t, nil, append(append([]string{"genpkey"}, testpki.TC26256A.Args...), "-out", o.Path("xl.key"))...)
	o.MustRun(t, nil, "req", "-new", "-key", o.Path("xl.key"), "-subj", "/CN=xl cli/O=kep tests/C=RU", "-out", o.Path("xl.csr"))
	ext := o.WriteFile(t, "xl.ext", []byte("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"+cdp))
	o.MustRun(t, nil, "x509", "-req", "-in", o.Path("xl.csr"), "-CA", p.Root.CertFile, "-CAkey", p.Root.KeyFile,
		"-md_gost12_256", "-days", "30", "-set_serial", "9101", "-extfile", ext, "-out", o.Path("xl.pem"))
	tsa := p.TSA(t, testpki.CryptoProA, "critical,timeStamping\n"+strings.TrimSuffix(cdp, "\n"))
	file, _ := p.CRL(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	crl = b
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("X-L1 from the command line"), 0o644)
	if _, stderr, code := execute(t, nil, "sign", "--key", o.Path("xl.key"), "--cert", o.Path("xl.pem"), "--profile", "xlt1",
		"--tsa", tsa.URL, "--ca", p.Root.CertFile, doc); code != 0 {
		t.Fatalf("sign --profile xlt1: %d %s", code, stderr)
	}
	srv.Close()
	os.RemoveAll(filepath.Join(dir, "cache")) // nothing cached to lean on
	stdout, stderr, code := execute(t, nil, "verify", "--json", "--content", doc, "--trust", p.Root.CertFile, "--trust-list", "none", doc+".sig")
	var rep struct {
		Indication string
		Signers    []struct{ Level string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 || rep.Indication != "TOTAL_PASSED" || len(rep.Signers) != 1 || rep.Signers[0].Level != "X-L1" {
		t.Fatalf("verify offline: exit %d %v %+v\n%s\n%s", code, err, rep, stdout, stderr)
	}
	if _, stderr, code := execute(t, nil, "verify", "--profile", "xl", "--content", doc, "--trust", p.Root.CertFile, "--trust-list", "none", doc+".sig"); code != 0 {
		t.Fatalf("verify --profile xl: exit %d\n%s", code, stderr)
	}
}
