package verify_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// TestFieldSigners signs with the keys of testdata/field (generate.sh there
// names each certificate's source) and verifies: TOTAL_PASSED, with the
// certificate's leniency as a CERTIFICATE_ENCODING warning.
func TestFieldSigners(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("../testdata/field/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rootCerts, err := certs.ParseCertificates(read("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, reason string }{
		{"dp94-leaf", certs.LeniencyDigestParamSet94},
		{"ber-boolean-leaf", certs.LeniencyBERBoolean},
	} {
		cs, err := certs.ParseCertificates(read(c.name + ".pem"))
		if err != nil {
			t.Fatal(err)
		}
		key, err := certs.ParsePrivateKey(read(c.name + ".key"))
		if err != nil {
			t.Fatal(err)
		}
		content := []byte("field signer " + c.name)
		sig, err := sign.Sign(context.Background(), bytes.NewReader(content), key, cs[0], sign.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: rootCerts, Content: bytes.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		ch := signerCheck(rep, "CERTIFICATE_ENCODING")
		if rep.Indication != verify.TotalPassed || ch == nil || ch.Status != verify.Warning || ch.Reason != c.reason {
			t.Fatalf("%s: %s, encoding check %+v\n%s", c.name, rep.Indication, ch, rep.Summary("en"))
		}
	}
}
