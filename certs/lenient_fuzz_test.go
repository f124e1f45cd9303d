package certs

import (
	"bytes"
	"crypto/x509/pkix"
	"os"
	"testing"
)

// FuzzLenientCertificate: every BER boolean found is a 01 01 XX with XX
// neither 00 nor FF, and a certificate read leniently keeps the received
// bytes: Raw is the input and RawTBSCertificate lies inside it.
func FuzzLenientCertificate(f *testing.F) {
	for _, n := range []string{"ber-boolean-ca.pem", "ber-boolean-leaf.pem", "dp94-leaf.pem", "ca.pem"} {
		if b, err := os.ReadFile("../testdata/field/" + n); err == nil {
			if ders, err := decodeBlocks(b, "CERTIFICATE"); err == nil {
				f.Add(ders[0])
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		for _, o := range berBooleans(der) {
			if o < 2 || der[o-2] != 0x01 || der[o-1] != 0x01 || der[o] == 0 || der[o] == 0xff {
				t.Fatalf("offset %d is not a BER TRUE", o)
			}
		}
		c, err := ParseCertificate(der)
		if err != nil || len(c.Leniencies) == 0 {
			return
		}
		if !bytes.Equal(c.Raw, der) || !bytes.Contains(der, c.RawTBSCertificate) || !bytes.Contains(der, c.RawSubjectPublicKeyInfo) {
			t.Fatal("a leniently read certificate does not keep the received bytes")
		}
	})
}

// FuzzGOST2001Signature: the two identifiers CMS uses for a 2001 signature
// (key OID, signature OID) give one decision on any digest and signature
// bytes, and a signature never verifies over a digest with a flipped bit.
func FuzzGOST2001Signature(f *testing.F) {
	p := []byte("seed")
	f.Add(p, make([]byte, 64))
	f.Fuzz(func(t *testing.T, msg, sig []byte) {
		c := fuzz2001Cert(t)
		d := GOST341194.Sum(msg)
		e1 := c.VerifyDigest(pkix.AlgorithmIdentifier{Algorithm: OIDGOST2001Key}, GOST341194, d, sig)
		e2 := c.VerifyDigest(pkix.AlgorithmIdentifier{Algorithm: OIDGOST2001Sig}, GOST341194, d, sig)
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("key OID: %v, signature OID: %v", e1, e2)
		}
		if e1 == nil {
			d[0] ^= 1
			if c.VerifyDigest(pkix.AlgorithmIdentifier{Algorithm: OIDGOST2001Key}, GOST341194, d, sig) == nil {
				t.Fatal("verifies over another digest")
			}
		}
	})
}

var fuzzCert *Certificate

// fuzz2001Cert is a GOST R 34.10-2001 certificate made by the gost engine
// (testdata/field/gost2001.pem, see generate.sh there).
func fuzz2001Cert(t *testing.T) *Certificate {
	if fuzzCert != nil {
		return fuzzCert
	}
	b, err := os.ReadFile("../testdata/field/gost2001.pem")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseCertificates(b)
	if err != nil || !cs[0].IsGOST2001() {
		t.Fatalf("testdata/field/gost2001.pem: %v", err)
	}
	fuzzCert = cs[0]
	return fuzzCert
}
