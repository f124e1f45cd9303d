package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/testpki"
)

// TestRevocationCLI: kep certs verify fetches the CRL named in the
// certificate from a loopback server: 0 when not revoked, 3 when revoked or
// when the server is down (0 with --soft-fail), and --evidence/--offline
// reproduces the answer with the server stopped.
func TestRevocationCLI(t *testing.T) {
	p := testpki.New(t)
	dir := t.TempDir()
	var crl atomic.Pointer[[]byte]
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(*crl.Load())
	}))
	defer srv.Close()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache")) // a CRL cache of the test's own

	now := time.Now()
	issue := func(name string, serial int64, cdp string) string {
		key, err := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			CRLDistributionPoints: []string{cdp}}
		der, err := certs.CreateCertificate(rand.Reader, tmpl, p.Root.Cert.Certificate, key.Public(), p.Root.Signer)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, name+".pem")
		os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
		return file
	}
	good := issue("good", 101, srv.URL+"/root.crl")
	revoked := issue("revoked", 102, srv.URL+"/root.crl")
	down := issue("down", 103, "http://"+closedAddr(t)+"/root.crl")
	der, err := certs.CreateCRL(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(102), RevocationTime: now.Add(-time.Minute)}}},
		p.Root.Cert.Certificate, p.Root.Signer)
	if err != nil {
		t.Fatal(err)
	}
	crl.Store(&der)

	verify := func(args ...string) int {
		t.Helper()
		_, _, code := execute(t, nil, append([]string{"certs", "verify", "--trust", p.Root.CertFile, "--purpose", "any"}, args...)...)
		return code
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"not revoked", []string{good}, exitOK},
		{"revoked", []string{revoked}, exitIndeterminate},
		{"CRL server down", []string{down}, exitIndeterminate},
		{"CRL server down, soft-fail", []string{"--soft-fail", down}, exitOK},
		{"revocation off", []string{"--revocation", "off", revoked}, exitOK},
		{"OCSP only, no responder named", []string{"--revocation", "ocsp", good}, exitIndeterminate},
		{"bad mode", []string{"--revocation", "sometimes", good}, exitUsage},
		{"offline without evidence", []string{"--offline", good}, exitUsage},
	} {
		if got := verify(tc.args...); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}

	// Evidence: recorded, then replayed with the server gone.
	ev := filepath.Join(dir, "evidence")
	for _, c := range []struct {
		file string
		want int
	}{{good, exitOK}, {revoked, exitIndeterminate}} {
		if got := verify("--evidence", ev, c.file); got != c.want {
			t.Fatalf("recording %s: exit %d", c.file, got)
		}
	}
	srv.Close()
	os.RemoveAll(filepath.Join(dir, "cache"))
	before := requests.Load()
	for _, c := range []struct {
		file string
		want int
	}{{good, exitOK}, {revoked, exitIndeterminate}} {
		if got := verify("--evidence", ev, "--offline", c.file); got != c.want {
			t.Errorf("replaying %s: exit %d, want %d", c.file, got, c.want)
		}
	}
	if requests.Load() != before {
		t.Errorf("the offline replay made requests")
	}
}

func closedAddr(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}
