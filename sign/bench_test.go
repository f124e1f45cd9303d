package sign_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
)

// BenchmarkXL1Verify measures kep's full offline verification of a CAdES-X
// Long Type 1 signature made by kep (newXLFixture: GOST-256 signer whose
// revocation evidence is a CRL, TSA whose evidence is an OCSP response,
// 32-byte detached content): the signer's signature and chain, both
// time-stamp tokens with their TSAs' chains, the references against the
// values, the OCSP response and the CRL checked as evidence, no network.
//
// With KEP_BENCH_CMS_DIR set (bench/run.sh) it also writes the signature as
// the cms-verify/xl1 fixture (xl1/root.pem, sig.der, content.bin) that
// OpenSSL's harness then verifies with CMS_verify: the signature and the
// chain only, none of the CAdES attributes — OpenSSL checks less. The root
// is the same parsed certificate in every iteration, so its key's
// precomputed table is kept (a warm anchor, as a long-running verifier has).
func BenchmarkXL1Verify(b *testing.B) {
	f := newXLFixture(b)
	ctx := context.Background()
	content := make([]byte, 32)
	rand.Read(content)
	root := f.p.Root.Cert
	sig, err := sign.Sign(ctx, bytes.NewReader(content), f.signer.Signer, f.signer.Cert, sign.Options{Profile: sign.ProfileXLT1,
		Timestamper: &tsp.Client{URL: f.tsa.URL}, Revocation: &revocation.Checker{}, ValidationCerts: []*certs.Certificate{root}})
	if err != nil {
		b.Fatal(err)
	}
	f.crlSrv.Close()
	f.ocsp.Close()
	if dir := os.Getenv("KEP_BENCH_CMS_DIR"); dir != "" {
		d := filepath.Join(dir, "xl1")
		pem, err := os.ReadFile(f.p.Root.CertFile)
		if err == nil {
			err = os.MkdirAll(d, 0o755)
		}
		for name, data := range map[string][]byte{"root.pem": pem, "sig.der": sig, "content.bin": content} {
			if err == nil {
				err = os.WriteFile(filepath.Join(d, name), data, 0o644)
			}
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	opts := verify.Options{Roots: []*certs.Certificate{root}, Revocation: &revocation.Checker{HTTP: &http.Client{Transport: &counting{}}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		opts.Content = bytes.NewReader(content)
		rep, err := verify.Verify(ctx, sig, opts)
		if err != nil || rep.Indication != verify.TotalPassed || rep.Signers[0].Level != verify.LevelXL1 {
			b.Fatalf("%v %+v", err, rep)
		}
	}
}
