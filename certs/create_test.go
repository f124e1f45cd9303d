package certs_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/ossltest"
)

// TestCreateCertificate issues GOST and RSA certificates under GOST and RSA
// CAs and a GOST-signed CRL; kep and OpenSSL with the gost engine accept them.
func TestCreateCertificate(t *testing.T) {
	now := time.Now()
	gostKey := func(ps *gost3410.ParamSet) crypto.Signer {
		k, err := gost3410.GenerateKey(ps, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	}
	leaf := func(cn string, serial int64) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour),
			NotAfter: now.Add(12 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	}
	o := ossltest.New(t)
	type issued struct {
		tmpl *x509.Certificate
		key  crypto.Signer
		der  []byte
	}
	mkCA := func(cn string, key crypto.Signer) issued {
		tmpl := ca(cn)
		der, err := certs.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatalf("%s: %v", cn, err)
		}
		parsed, _ := x509.ParseCertificate(der)
		tmpl.SubjectKeyId = parsed.SubjectKeyId
		return issued{tmpl, key, der}
	}
	gostCA := mkCA("GOST CA", gostKey(gost3410.TC26256A))
	rsaCA := mkCA("RSA CA", rsaKey)
	for _, tc := range []struct {
		name string
		ca   issued
		key  crypto.Signer
	}{
		{"gost512 under gost", gostCA, gostKey(gost3410.TC26512A)},
		{"cryptopro-a under gost", gostCA, gostKey(gost3410.CryptoProA)},
		{"rsa under gost", gostCA, rsaKey},
		{"gost256 under rsa", rsaCA, gostKey(gost3410.TC26256B)},
	} {
		der, err := certs.CreateCertificate(rand.Reader, leaf(tc.name, 7), tc.ca.tmpl, tc.key.Public(), tc.ca.key)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c, err := certs.ParseCertificate(der)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		root, _ := certs.ParseCertificate(tc.ca.der)
		res := certs.Verify(c, certs.VerifyOptions{Roots: []*certs.Certificate{root}, At: now})
		if !res.Valid() {
			t.Fatalf("%s: %s", tc.name, res.Summary("en"))
		}
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(tc.key.Public()) {
			t.Errorf("%s: wrong public key in the certificate", tc.name)
		}
		caFile := o.WriteFile(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tc.ca.der}))
		leafFile := o.WriteFile(t, "leaf.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		if out, err := o.Run(nil, "verify", "-CAfile", caFile, "-purpose", "any", leafFile); err != nil {
			t.Errorf("%s: openssl verify: %v\n%s", tc.name, err, out)
		}
	}

	crlDER, err := certs.CreateCRL(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(7), RevocationTime: now.Add(-time.Minute)}}}, gostCA.tmpl, gostCA.key)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := certs.ParseCRL(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := certs.CreateCertificate(rand.Reader, leaf("revoked", 7), gostCA.tmpl, gostKey(gost3410.TC26256A).Public(), gostCA.key)
	c, _ := certs.ParseCertificate(der)
	root, _ := certs.ParseCertificate(gostCA.der)
	if res := certs.Verify(c, certs.VerifyOptions{Roots: []*certs.Certificate{root}, At: now, CRLs: []*certs.CRL{crl}}); res.Valid() {
		t.Errorf("a certificate on the GOST-signed CRL validated")
	}
	caFile := o.WriteFile(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: gostCA.der}))
	crlFile := o.WriteFile(t, "ca.crl", crlDER)
	if out, err := o.Run(nil, "crl", "-inform", "DER", "-in", crlFile, "-CAfile", caFile, "-noout"); err != nil {
		t.Errorf("openssl crl: %v\n%s", err, out)
	}
	// The same check fails against another CA: it does verify the signature.
	otherCA := o.WriteFile(t, "other.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rsaCA.der}))
	if _, err := o.Run(nil, "crl", "-inform", "DER", "-in", crlFile, "-CAfile", otherCA, "-noout"); err == nil {
		t.Errorf("openssl accepted the CRL with the wrong CA")
	}
}
