package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/trustlist"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// TestAccreditation: signatures under the sample list's CAs (testdata/
// trustlist): the accredited CA's are qualified, the terminated CA's are
// valid but not qualified, and fail when a qualified signature is required.
func TestAccreditation(t *testing.T) {
	f, err := os.Open("../testdata/trustlist/tsl.xml")
	if err != nil {
		t.Fatal(err)
	}
	list, err := trustlist.Parse(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := list.Certificates()
	ctx := context.Background()
	content := []byte("квалифицированная подпись")
	signUnder := func(name string) []byte {
		t.Helper()
		caPEM, _ := os.ReadFile("../testdata/trustlist/" + name + ".pem")
		keyPEM, _ := os.ReadFile("../testdata/trustlist/" + name + ".key")
		cas, err := certs.ParseCertificates(caPEM)
		if err != nil {
			t.Fatal(err)
		}
		caKey, err := certs.ParsePrivateKey(keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
		now := time.Now()
		der, err := certs.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "signer of " + name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment},
			cas[0].Certificate, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := certs.ParseCertificate(der)
		sig, err := sign.Sign(ctx, bytes.NewReader(content), key, leaf, sign.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	check := func(sig []byte, require bool) verify.SignerReport {
		rep, err := verify.Verify(ctx, sig, verify.Options{Roots: roots, Intermediates: inter, Content: bytes.NewReader(content),
			Accreditation: list, RequireQualified: require})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Signers[0]
	}
	for _, tc := range []struct {
		ca         string
		qualified  bool
		requireInd string
	}{
		{"active", true, verify.TotalPassed},
		{"terminated", false, verify.TotalFailed},
		{"suspended", false, verify.TotalFailed},
	} {
		sig := signUnder(tc.ca)
		s := check(sig, false)
		c := findCheck(s, "ISSUER_ACCREDITED")
		if s.Indication != verify.TotalPassed || s.Qualified != tc.qualified || c == nil || (c.Status == verify.Passed) != tc.qualified {
			t.Errorf("%s: %s qualified=%v check %+v", tc.ca, s.Indication, s.Qualified, c)
		}
		if s := check(sig, true); s.Indication != tc.requireInd {
			t.Errorf("%s, qualified required: %s, want %s", tc.ca, s.Indication, tc.requireInd)
		}
	}
}
