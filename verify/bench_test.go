package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/verify"
)

// cmsFixtureEnv names the directory of CMS fixtures that bench/run.sh makes
// once per run and gives to both this benchmark and the OpenSSL harness
// (bench/openssl/gostbench.c, ops cms-verify/<name>), so both verify the very
// same bytes. Layout: <dir>/<name>/root.pem, leaf.pem, sig.der, content.bin.
const cmsFixtureEnv = "KEP_BENCH_CMS_DIR"

// cmsChains are the chains measured, by the name of their sub-benchmark and
// fixture directory.
var cmsChains = []string{
	"gost256", // GOST-256 (CryptoPro-A) root -> GOST-256 (CryptoPro-A) leaf, Streebog-256
	"gost512", // GOST-256 (CryptoPro-A) root -> GOST-512 (tc26-512-A) leaf, Streebog-512
	"rsa",     // RSA-2048 root -> RSA-2048 leaf, SHA-256
}

// cmsFixture is a detached CMS signature made by `openssl cms -sign` with a
// two-certificate chain (leaf -> root; the leaf is embedded in the signature).
type cmsFixture struct {
	root    *certs.Certificate
	leaf    *certs.Certificate
	sig     []byte // DER SignedData, detached
	content []byte
}

// BenchmarkCMSVerify measures a full detached CMS verification: parsing the
// DER SignedData and its embedded leaf certificate, hashing the 32-byte
// content, verifying the signer's signature over the signed attributes,
// building the chain leaf -> root and verifying the leaf's signature by the
// root. The root is parsed once, outside the loop, as OpenSSL builds its
// X509_STORE once, and every verification starts cold: the root's key has no
// precomputed table (verify.SetAnchorTables(false)), as OpenSSL has none.
// bench/run.sh compares it with OpenSSL's d2i_CMS_ContentInfo + CMS_verify on
// the same fixtures (op cms-verify/<name>).
//
// With KEP_BENCH_CMS_DIR set the fixtures are read from there; without it
// (plain `go test -bench`) each sub-benchmark makes an equivalent one with
// OpenSSL and the gost engine.
func BenchmarkCMSVerify(b *testing.B) {
	defer verify.SetAnchorTables(verify.SetAnchorTables(false))
	for _, name := range cmsChains {
		b.Run(name, func(b *testing.B) { benchCMSVerify(b, name) })
	}
}

// BenchmarkCMSVerifyWarm is BenchmarkCMSVerify as a long-running verifier
// sees it: Verify builds the root key's precomputed table (the first
// verification, outside the loop) and every later one reuses it. make bench
// prints it as its own labelled line (op cms-verify-warm/<name>) beside the
// same OpenSSL figure, which has no such table.
func BenchmarkCMSVerifyWarm(b *testing.B) {
	defer verify.SetAnchorTables(verify.SetAnchorTables(true))
	for _, name := range cmsChains {
		b.Run(name, func(b *testing.B) { benchCMSVerify(b, name) })
	}
}

func benchCMSVerify(b *testing.B, name string) {
	fx := loadCMSFixture(b, name) // a root of its own: no table from another benchmark
	// A fixed validation time inside both certificates' validity,
	// after the signing time OpenSSL put in the signed attributes.
	at := latest(fx.root.NotBefore, fx.leaf.NotBefore).Add(time.Hour)
	if at.After(fx.root.NotAfter) || at.After(fx.leaf.NotAfter) {
		b.Fatalf("%s: the certificates have no common validity period after %v", name, at)
	}
	roots := []*certs.Certificate{fx.root}
	ctx := context.Background()

	// Once outside the loop, with the whole report on failure.
	rep, err := verify.Verify(ctx, fx.sig, verify.Options{Roots: roots, Content: bytes.NewReader(fx.content), At: at})
	if err != nil {
		b.Fatal(err)
	}
	if rep.Indication != verify.TotalPassed {
		b.Fatalf("%s: indication %s, want %s\n%s", name, rep.Indication, verify.TotalPassed, rep.Summary("en"))
	}

	for b.Loop() {
		rep, err := verify.Verify(ctx, fx.sig, verify.Options{Roots: roots, Content: bytes.NewReader(fx.content), At: at})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Indication != verify.TotalPassed {
			b.Fatalf("%s: indication %s/%s, want %s", name, rep.Indication, rep.SubIndication, verify.TotalPassed)
		}
	}
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// loadCMSFixture reads the fixture name from $KEP_BENCH_CMS_DIR, or makes one
// when the variable is not set.
func loadCMSFixture(b *testing.B, name string) *cmsFixture {
	b.Helper()
	dir := os.Getenv(cmsFixtureEnv)
	if dir == "" {
		return makeCMSFixture(b, name)
	}
	fx, err := readCMSFixture(filepath.Join(dir, name))
	if err != nil {
		b.Fatalf("%s=%s: %v (bench/run.sh makes the fixtures; unset %s to let the benchmark make its own)", cmsFixtureEnv, dir, err, cmsFixtureEnv)
	}
	return fx
}

func readCMSFixture(dir string) (*cmsFixture, error) {
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
	cert := func(name string) (*certs.Certificate, error) {
		pem, err := read(name)
		if err != nil {
			return nil, err
		}
		cs, err := certs.ParseCertificates(pem)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(cs) != 1 {
			return nil, fmt.Errorf("%s: %d certificates, want 1", name, len(cs))
		}
		return cs[0], nil
	}
	var fx cmsFixture
	var errs [4]error
	fx.root, errs[0] = cert("root.pem")
	fx.leaf, errs[1] = cert("leaf.pem")
	fx.sig, errs[2] = read("sig.der")
	fx.content, errs[3] = read("content.bin")
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return &fx, nil
}

// makeCMSFixture makes the fixture name the way bench/run.sh does: the GOST
// chains with internal/testpki (a CryptoPro-A root signing with Streebog-256),
// the RSA chain with openssl directly, then `openssl cms -sign` over 32 random
// bytes with OpenSSL's default signed attributes.
func makeCMSFixture(b *testing.B, name string) *cmsFixture {
	b.Helper()
	content := make([]byte, 32)
	if _, err := rand.Read(content); err != nil {
		b.Fatal(err)
	}
	var (
		o                 *ossltest.OpenSSL
		root, leaf        *certs.Certificate
		leafCert, leafKey string
		md                string
	)
	switch name {
	case "gost256", "gost512":
		k := testpki.CryptoProA
		if name == "gost512" {
			k = testpki.TC26512A
		}
		p := testpki.New(b)
		id := p.Leaf(b, k, "kep bench signer")
		o, root, leaf = p.O, p.Root.Cert, id.Cert
		leafCert, leafKey, md = id.CertFile, id.KeyFile, k.MD
	case "rsa":
		o = ossltest.New(b)
		root, leaf, leafCert, leafKey = makeRSAChain(b, o)
		md = "sha256"
	default:
		b.Fatalf("unknown CMS fixture %q", name)
	}
	in := o.WriteFile(b, "content.bin", content)
	sig := o.MustRun(b, nil, "cms", "-sign", "-binary", "-md", md, "-signer", leafCert, "-inkey", leafKey,
		"-in", in, "-outform", "DER")
	return &cmsFixture{root: root, leaf: leaf, sig: sig, content: content}
}

// makeRSAChain makes an RSA-2048 root (CA:TRUE, keyCertSign) and an RSA-2048
// signing leaf it issues with SHA-256, as bench/run.sh does.
func makeRSAChain(b *testing.B, o *ossltest.OpenSSL) (root, leaf *certs.Certificate, leafCert, leafKey string) {
	b.Helper()
	conf := o.WriteFile(b, "rsa-req.cnf", []byte("[req]\ndistinguished_name=dn\n[dn]\n[v3]\n"+
		"basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"))
	ext := o.WriteFile(b, "rsa-leaf.ext", []byte("basicConstraints=CA:FALSE\n"+
		"keyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"))
	rootKey, rootCert := o.Path("rsa-root.key"), o.Path("rsa-root.pem")
	leafKey, leafCert = o.Path("rsa-leaf.key"), o.Path("rsa-leaf.pem")
	csr := o.Path("rsa-leaf.csr")
	o.MustRun(b, nil, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rootKey)
	o.MustRun(b, nil, "req", "-new", "-x509", "-key", rootKey, "-sha256", "-days", "3650",
		"-subj", "/CN=kep bench RSA root/O=kep/C=RU", "-config", conf, "-extensions", "v3", "-out", rootCert)
	o.MustRun(b, nil, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", leafKey)
	o.MustRun(b, nil, "req", "-new", "-key", leafKey, "-subj", "/CN=kep bench RSA signer/O=kep/C=RU",
		"-config", conf, "-out", csr)
	o.MustRun(b, nil, "x509", "-req", "-in", csr, "-CA", rootCert, "-CAkey", rootKey, "-sha256", "-days", "3650",
		"-set_serial", "1001", "-extfile", ext, "-out", leafCert)
	parse := func(path string) *certs.Certificate {
		pem, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		cs, err := certs.ParseCertificates(pem)
		if err != nil || len(cs) != 1 {
			b.Fatalf("%s: %d certificates, %v", path, len(cs), err)
		}
		return cs[0]
	}
	return parse(rootCert), parse(leafCert), leafCert, leafKey
}
