package revocation

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/kepkit/kep/certs"
)

// goCA is an ECDSA CA made with crypto/x509, which writes delta CRLs where
// `openssl ca` cannot, and a leaf whose CRL and OCSP URLs point at srv.
type goCA struct {
	key        *ecdsa.PrivateKey
	rootX      *x509.Certificate
	root, leaf *certs.Certificate
	srv        *crlServer
	url        string
}

func newGoCA(t *testing.T, ocspURL string) *goCA {
	t.Helper()
	srv := &crlServer{crls: map[string][]byte{}}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
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
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), CRLDistributionPoints: []string{hs.URL + "/base.crl"}, OCSPServer: []string{ocspURL}}
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
	return &goCA{key: key, rootX: rootX, root: root, leaf: leaf, srv: srv, url: hs.URL}
}

// TestDeltaCRL checks a complete CRL together with the delta CRL its
// freshestCRL extension names.
func TestDeltaCRL(t *testing.T) {
	ca := newGoCA(t, "")
	srv, rootX, key, root, leaf, now := ca.srv, ca.rootX, ca.key, ca.root, ca.leaf, time.Now()

	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(ca.url + "/delta.crl")) })
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

// TestOCSPReference checks responses made by golang.org/x/crypto/ocsp (ECDSA,
// signed by the CA itself, responder byName).
func TestOCSPReference(t *testing.T) {
	var body atomic.Pointer[[]byte]
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(*body.Load()) }))
	defer hs.Close()
	ca := newGoCA(t, hs.URL)
	now := time.Now()
	for _, c := range []struct {
		tmpl  ocsp.Response
		state string
	}{
		{ocsp.Response{Status: ocsp.Good}, Good},
		{ocsp.Response{Status: ocsp.Revoked, RevokedAt: now.Add(-time.Hour), RevocationReason: ocsp.Superseded}, Revoked},
		{ocsp.Response{Status: ocsp.Revoked, RevokedAt: now.Add(-time.Hour), RevocationReason: ocsp.Unspecified}, Revoked}, // no reason written
		{ocsp.Response{Status: ocsp.Unknown}, Unknown},
		{ocsp.Response{Status: ocsp.Good, IssuerHash: crypto.SHA256}, Indeterminate}, // another CertID
	} {
		c.tmpl.SerialNumber, c.tmpl.ThisUpdate, c.tmpl.NextUpdate = ca.leaf.SerialNumber, now.Add(-time.Minute), now.Add(time.Hour)
		der, err := ocsp.CreateResponse(ca.rootX, ca.rootX, c.tmpl, ca.key)
		if err != nil {
			t.Fatal(err)
		}
		body.Store(&der)
		st, err := (&Checker{Policy: Policy{Mode: ModeOCSP}}).Check(context.Background(), ca.leaf, ca.root)
		if err != nil || st.State != c.state {
			t.Fatalf("%+v: %v", st, err)
		}
		// x/crypto/ocsp writes no revocationReason for Unspecified: then there is none.
		if want := map[int]string{ocsp.Superseded: "superseded", ocsp.Unspecified: ""}[c.tmpl.RevocationReason]; c.state == Revoked && st.Reason != want {
			t.Errorf("reason %q, want %q", st.Reason, want)
		}
	}
}
