package revocation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
)

// TestDeltaCRL checks a complete CRL together with the delta CRL its
// freshestCRL extension names (an ECDSA CA made with crypto/x509, which
// writes delta CRLs where `openssl ca` cannot).
func TestDeltaCRL(t *testing.T) {
	srv := &crlServer{crls: map[string][]byte{}}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	now := time.Now()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "delta root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	rootX, _ := x509.ParseCertificate(rootDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "delta leaf"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), CRLDistributionPoints: []string{hs.URL + "/base.crl"}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, rootX, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	root, err := certs.ParseCertificate(rootDER)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certs.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(hs.URL + "/delta.crl")) })
				})
			})
		})
	})
	freshest := pkix.Extension{Id: oidFreshestCRL, Value: b.BytesOrPanic()}
	crl := func(number, base int64, revoked ...x509.RevocationListEntry) []byte {
		tmpl := &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
			RevokedCertificateEntries: revoked}
		if base == 0 {
			tmpl.ExtraExtensions = []pkix.Extension{freshest}
		} else {
			v, _ := asn1.Marshal(big.NewInt(base))
			tmpl.ExtraExtensions = []pkix.Extension{{Id: oidDeltaCRLIndicator, Critical: true, Value: v}}
		}
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, rootX, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	ctx := context.Background()
	srv.crls["/base.crl"] = crl(5, 0)
	entry := x509.RevocationListEntry{SerialNumber: big.NewInt(2), RevocationTime: now.Add(-time.Minute), ReasonCode: 1}

	srv.crls["/delta.crl"] = crl(6, 5)
	st, err := (&Checker{}).Check(ctx, leaf, root)
	expect(t, st, err, Good, SourceCRL, "")

	srv.crls["/delta.crl"] = crl(7, 5, entry)
	st, err = (&Checker{}).Check(ctx, leaf, root)
	expect(t, st, err, Revoked, SourceCRL, SubRevokedNoPOE)
	if st.Reason != "keyCompromise" {
		t.Errorf("reason %q", st.Reason)
	}

	srv.crls["/delta.crl"] = crl(8, 6, entry) // needs a newer complete CRL
	st, err = (&Checker{}).Check(ctx, leaf, root)
	expect(t, st, err, Indeterminate, SourceCRL, SubTryLater)

	srv.crls["/base.crl"] = crl(9, 7) // a delta where the complete CRL belongs
	st, err = (&Checker{}).Check(ctx, leaf, root)
	expect(t, st, err, Indeterminate, SourceCRL, SubTryLater)
}
