package login

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/gost/gost3410"
)

// BenchmarkLoginVerify measures a backend's login verification: a bound
// response with a GOST-256 (tc26-256-A) certificate checked against a GOST
// root, the nonce taken from the memory store, and the leaf's revocation
// checked online against a CRL on loopback that the Checker has cached
// (warm: it is fetched once, before the timer starts). Signing the
// responses is not timed.
func BenchmarkLoginVerify(b *testing.B) {
	now := time.Now()
	rootKey, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench root"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rootDER, err := certs.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		b.Fatal(err)
	}
	root, _ := certs.ParseCertificate(rootDER)
	rootTmpl.SubjectKeyId = root.SubjectKeyId
	crlDER, err := certs.CreateCRL(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(time.Hour)}, rootTmpl, rootKey)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(crlDER) }))
	defer srv.Close()
	key, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	leafDER, err := certs.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Иванов Иван"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, CRLDistributionPoints: []string{srv.URL + "/root.crl"}},
		rootTmpl, key.Public(), rootKey)
	if err != nil {
		b.Fatal(err)
	}
	leaf, _ := certs.ParseCertificate(leafDER)

	const origin = "https://portal.example.ru"
	ctx := context.Background()
	store := NewMemoryStore()
	issuer := &Issuer{Store: store}
	checker := &revocation.Checker{CacheDir: b.TempDir(), Policy: revocation.Policy{Mode: revocation.ModeCRL}}
	v := &Verifier{Store: store, Roots: []*certs.Certificate{root}, Revocation: checker, RequireRevocation: true}
	respond := func() []byte {
		ch, err := issuer.Challenge(ctx, origin)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := Sign(ctx, ch, FormatBound, key, leaf, nil)
		if err != nil {
			b.Fatal(err)
		}
		return resp
	}
	if _, err := v.Verify(ctx, origin, respond()); err != nil { // warms the CRL cache
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		resp := respond()
		b.StartTimer()
		if _, err := v.Verify(ctx, origin, resp); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}
