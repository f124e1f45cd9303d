package verify_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// fixtureAt is the validation time testdata/pki/README.md documents.
var fixtureAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func fixtureCerts(t *testing.T, names ...string) []*certs.Certificate {
	t.Helper()
	var out []*certs.Certificate
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "pki", n+".pem"))
		if err != nil {
			t.Fatal(err)
		}
		cs, err := certs.ParseCertificates(b)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out = append(out, cs...)
	}
	return out
}

// TestFixturePKI signs with every leaf of testdata/pki and checks the outcome
// its README promises, at the documented validation time.
func TestFixturePKI(t *testing.T) {
	dir := filepath.Join("..", "testdata", "pki")
	roots := fixtureCerts(t, "root", "rsa-root", "ecdsa-root")
	inter := fixtureCerts(t, "inter")
	crlData, err := os.ReadFile(filepath.Join(dir, "inter.crl"))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := certs.ParseCRL(crlData)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		leaf     string
		crls     bool
		ind, sub string
	}{
		{"person", true, verify.TotalPassed, ""},
		{"org", true, verify.TotalPassed, ""},
		{"person-tc26a", true, verify.TotalPassed, ""},
		{"direct", false, verify.TotalPassed, ""},
		{"rsa", false, verify.TotalPassed, ""},
		{"ecdsa", false, verify.TotalPassed, ""},
		{"expired", false, verify.Indeterminate, "OUT_OF_BOUNDS_NO_POE"},
		{"expired", true, verify.Indeterminate, "OUT_OF_BOUNDS_NOT_REVOKED"},
		{"notyet", false, verify.TotalFailed, "NOT_YET_VALID"},
		{"revoked", true, verify.Indeterminate, "REVOKED_NO_POE"},
		{"revoked", false, verify.TotalPassed, ""},
		{"wrongku", false, verify.Indeterminate, "CHAIN_CONSTRAINTS_FAILURE"},
		{"unknown-ca", false, verify.Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND"},
	}
	content := []byte("Договор № 1 от 01.06.2026")
	for _, tc := range cases {
		leaf := fixtureCerts(t, tc.leaf)[0]
		keyPEM, err := os.ReadFile(filepath.Join(dir, tc.leaf+".key"))
		if err != nil {
			t.Fatal(err)
		}
		signer, err := certs.ParsePrivateKey(keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := sign.Sign(context.Background(), bytes.NewReader(content), signer, leaf,
			sign.Options{SigningTime: fixtureAt.Add(-time.Hour)})
		if err != nil {
			t.Fatalf("%s: %v", tc.leaf, err)
		}
		opts := verify.Options{Roots: roots, Intermediates: inter, At: fixtureAt, Content: bytes.NewReader(content)}
		if tc.crls {
			opts.CRLs = []*certs.CRL{crl}
		}
		rep, err := verify.Verify(context.Background(), sig, opts)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Indication != tc.ind || rep.Signers[0].SubIndication != tc.sub {
			t.Errorf("%s (CRL %v): got %s/%s, want %s/%s\n%s", tc.leaf, tc.crls, rep.Indication, rep.Signers[0].SubIndication, tc.ind, tc.sub, rep.Summary("en"))
		}
	}
}
