package cryptopro

import (
	"bytes"
	"encoding/pem"
	"testing"

	"crypto/x509"
	"crypto/x509/pkix"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"math/big"
	"time"
)

// FuzzCertificateFrom: whatever a file beside a container holds, the
// certificate taken from it is a certificate whose key is the container's
// by the fingerprint, or none; the owner's certificate, as DER or PEM, is
// always found.
func FuzzCertificateFrom(f *testing.F) {
	mine, other := selfSignedGOST(f, 1), selfSignedGOST(f, 2)
	pub := mine.PublicKey.(*gost3410.PublicKey)
	c := &Container{Header: &Header{PrimaryFP: pub.Bytes()[:8]}}
	f.Add(mine.Raw)
	f.Add(other.Raw)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mine.Raw}))
	f.Add(append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Raw}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mine.Raw})...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	if got := c.certificateFrom(Primary, mine.Raw); !bytes.Equal(got, mine.Raw) {
		f.Fatal("the owner's DER certificate is not found")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		der := c.certificateFrom(Primary, data)
		if der == nil {
			return
		}
		cert, err := certs.ParseCertificate(der)
		if err != nil {
			t.Fatalf("took what does not parse: %v", err)
		}
		k, ok := cert.PublicKey.(*gost3410.PublicKey)
		if !ok || !c.MatchesPublicKey(Primary, k) {
			t.Fatal("took a certificate of another key")
		}
	})
}

// selfSignedGOST is a self-signed certificate of a fixed tc26-256-a key
// (kep's own certs.CreateCertificate: no OpenSSL in the fuzz workers).
func selfSignedGOST(tb testing.TB, seed byte) *certs.Certificate {
	tb.Helper()
	key, err := gost3410.NewPrivateKey(gost3410.TC26256A, bytes.Repeat([]byte{seed}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(seed)), Subject: pkix.Name{CommonName: "fuzz"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1900000000, 0)}
	der, err := certs.CreateCertificate(nil, tmpl, tmpl, key.PublicKey(), key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := certs.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}
