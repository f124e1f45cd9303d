package certs

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"
)

func fieldCert(t *testing.T, name string) *Certificate {
	t.Helper()
	b, err := os.ReadFile("../testdata/field/" + name)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseCertificates(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cs[0]
}

func hasLeniency(c *Certificate, reason string) bool {
	for _, l := range c.Leniencies {
		if l.Reason == reason {
			return true
		}
	}
	return false
}

// TestFieldCertificates reads the certificates of testdata/field (see its
// generate.sh for each one's source): accepted with the leniency recorded,
// signatures checked over the received bytes.
func TestFieldCertificates(t *testing.T) {
	root := fieldCert(t, "ca.pem")
	if len(root.Leniencies) != 0 {
		t.Fatalf("a DER certificate has leniencies %v", root.Leniencies)
	}
	at := time.Now().Add(time.Hour)

	ca := fieldCert(t, "ber-boolean-ca.pem")
	leaf := fieldCert(t, "ber-boolean-leaf.pem")
	for _, c := range []*Certificate{ca, leaf} {
		if !hasLeniency(c, LeniencyBERBoolean) {
			t.Fatalf("%s: no BER_BOOLEAN leniency: %v", c.Subject, c.Leniencies)
		}
		if !bytes.Contains(c.Raw, []byte{0x01, 0x01, 0x01}) || !bytes.Contains(c.RawTBSCertificate, []byte{0x01, 0x01, 0x01}) {
			t.Fatalf("%s: Raw is not the received encoding", c.Subject)
		}
		if err := c.CheckSignatureFrom(root); err != nil {
			t.Fatalf("%s: signature over the received bytes: %v", c.Subject, err)
		}
		// Over a DER re-encoding the signature fails: kep hashes what it got.
		fixed := bytes.ReplaceAll(c.RawTBSCertificate, []byte{0x01, 0x01, 0x01}, []byte{0x01, 0x01, 0xff})
		if err := checkSignature(root, c.SignatureAlgorithmID, fixed, c.Signature); !errors.Is(err, ErrSignatureInvalid) {
			t.Fatalf("%s: the signature verifies over a re-encoding too: %v", c.Subject, err)
		}
	}
	if !ca.IsCA || !ca.BasicConstraintsValid || leaf.IsCA {
		t.Fatalf("BER cA read as %v/%v, leaf %v", ca.IsCA, ca.BasicConstraintsValid, leaf.IsCA)
	}
	r := Verify(leaf, VerifyOptions{Roots: []*Certificate{root}, At: at})
	if r.Indication != TotalPassed {
		t.Fatalf("BER-boolean leaf: %s/%s %v", r.Indication, r.SubIndication, r.Failures())
	}

	dp := fieldCert(t, "dp94-leaf.pem")
	if !hasLeniency(dp, LeniencyDigestParamSet94) || dp.KeyAlgorithm != "GOST R 34.10-2012 256 (cryptopro-a)" || dp.IsGOST2001() {
		t.Fatalf("dp94 leaf: %s, %v", dp.KeyAlgorithm, dp.Leniencies)
	}
	if r := Verify(dp, VerifyOptions{Roots: []*Certificate{root}, At: at}); r.Indication != TotalPassed {
		t.Fatalf("dp94 leaf: %s/%s %v", r.Indication, r.SubIndication, r.Failures())
	}
	// A BOOLEAN that is not the critical flag or cA stays strict, and a
	// truncated certificate is still refused.
	if _, err := ParseCertificate(leaf.Raw[:len(leaf.Raw)-1]); err == nil {
		t.Fatal("a truncated BER-boolean certificate was accepted")
	}
}
