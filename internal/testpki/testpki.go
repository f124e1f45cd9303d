// Package testpki makes small certificate hierarchies with OpenSSL (and the
// gost engine) for interop tests: a GOST root CA and leaf certificates on any
// key type OpenSSL can generate. Everything is created in the test's scratch
// directory; nothing is mocked.
package testpki

import (
	"crypto"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/ossltest"
)

// Key names a key type as `openssl genpkey` options.
type Key struct {
	Name string   // short name used in file names and test names
	Args []string // genpkey arguments
	MD   string   // digest OpenSSL signs with for this key (for openssl cms -md)
}

// Keys OpenSSL and kep both handle.
var (
	CryptoProA = Key{"cryptopro-a", []string{"-algorithm", "gost2012_256", "-pkeyopt", "paramset:A"}, "md_gost12_256"}
	CryptoProB = Key{"cryptopro-b", []string{"-algorithm", "gost2012_256", "-pkeyopt", "paramset:B"}, "md_gost12_256"}
	CryptoProC = Key{"cryptopro-c", []string{"-algorithm", "gost2012_256", "-pkeyopt", "paramset:C"}, "md_gost12_256"}
	TC26256A   = Key{"tc26-256-a", []string{"-algorithm", "gost2012_256", "-pkeyopt", "paramset:TCA"}, "md_gost12_256"}
	TC26512A   = Key{"tc26-512-a", []string{"-algorithm", "gost2012_512", "-pkeyopt", "paramset:A"}, "md_gost12_512"}
	TC26512B   = Key{"tc26-512-b", []string{"-algorithm", "gost2012_512", "-pkeyopt", "paramset:B"}, "md_gost12_512"}
	TC26512C   = Key{"tc26-512-c", []string{"-algorithm", "gost2012_512", "-pkeyopt", "paramset:C"}, "md_gost12_512"}
	RSA2048    = Key{"rsa-2048", []string{"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}, "sha256"}
	ECDSAP256  = Key{"ecdsa-p256", []string{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, "sha256"}
)

// AllKeys lists every key type above.
var AllKeys = []Key{CryptoProA, CryptoProB, CryptoProC, TC26256A, TC26512A, TC26512B, TC26512C, RSA2048, ECDSAP256}

// Identity is a certificate with its private key, as files and parsed.
type Identity struct {
	Key      Key
	CertFile string
	KeyFile  string
	Cert     *certs.Certificate
	Signer   crypto.Signer // nil for GOST R 34.10-2001 keys: kep does not sign with them
}

// PKI is a GOST root CA in a scratch directory.
type PKI struct {
	O    *ossltest.OpenSSL
	Root *Identity
	n    int
}

// New makes a root CA (CryptoPro-A key, Streebog-256 signature).
func New(t testing.TB) *PKI {
	t.Helper()
	o := ossltest.New(t)
	p := &PKI{O: o}
	key := p.genkey(t, "root", CryptoProA)
	ext := o.WriteFile(t, "root.ext", []byte("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"))
	cert := o.Path("root.pem")
	o.MustRun(t, nil, "req", "-new", "-x509", "-key", key, "-md_gost12_256", "-days", "3650",
		"-subj", "/CN=kep test root/O=kep/C=RU", "-utf8", "-extensions", "v3", "-config", p.reqConfig(t, ext), "-out", cert)
	p.Root = p.load(t, CryptoProA, cert, key)
	return p
}

// reqConfig writes a minimal req configuration whose [v3] section is the
// extension file's content (openssl req -x509 takes extensions from a config).
func (p *PKI) reqConfig(t testing.TB, extFile string) string {
	ext, err := os.ReadFile(extFile)
	if err != nil {
		t.Fatal(err)
	}
	return p.O.WriteFile(t, "req.cnf", []byte("[req]\ndistinguished_name=dn\n[dn]\n[v3]\n"+string(ext)))
}

func (p *PKI) genkey(t testing.TB, name string, k Key) string {
	t.Helper()
	path := p.O.Path(name + ".key")
	p.O.MustRun(t, nil, append(append([]string{"genpkey"}, k.Args...), "-out", path)...)
	return path
}

func (p *PKI) load(t testing.TB, k Key, certFile, keyFile string) *Identity {
	t.Helper()
	cb, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParseCertificates(cb)
	if err != nil || len(cs) != 1 {
		t.Fatalf("%s: %v", certFile, err)
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := certs.ParsePrivateKey(kb)
	switch {
	case errors.Is(err, certs.ErrUnsupportedAlgorithm) && cs[0].IsGOST2001():
		// kep does not sign with GOST R 34.10-2001 keys: the identity
		// has a certificate (for verification tests) and no Signer.
	case err != nil:
		t.Fatalf("%s: %v", keyFile, err)
	}
	return &Identity{Key: k, CertFile: certFile, KeyFile: keyFile, Cert: cs[0], Signer: signer}
}

// Leaf issues a signing certificate for a new key of type k, valid for ten
// years from now, with keyUsage digitalSignature and nonRepudiation.
func (p *PKI) Leaf(t testing.TB, k Key, commonName string) *Identity {
	t.Helper()
	p.n++
	name := fmt.Sprintf("leaf%d-%s", p.n, k.Name)
	key := p.genkey(t, name, k)
	csr := p.O.Path(name + ".csr")
	subj := "/CN=" + strings.ReplaceAll(commonName, "/", " ") + "/O=kep tests/C=RU"
	p.O.MustRun(t, nil, "req", "-new", "-key", key, "-subj", subj, "-utf8", "-out", csr)
	ext := p.O.WriteFile(t, name+".ext", []byte("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"))
	cert := p.O.Path(name + ".pem")
	p.O.MustRun(t, nil, "x509", "-req", "-in", csr, "-CA", p.Root.CertFile, "-CAkey", p.Root.KeyFile,
		"-md_gost12_256", "-days", "3650", "-set_serial", fmt.Sprint(1000+p.n), "-extfile", ext, "-out", cert)
	return p.load(t, k, cert, key)
}

// CRL has the root issue a CRL, valid for 30 days from now, that lists the
// given certificates as revoked an hour ago; it returns the CRL's file and
// its parse.
func (p *PKI) CRL(t testing.TB, revoked ...*Identity) (string, *certs.CRL) {
	t.Helper()
	var index strings.Builder
	when := time.Now().Add(-time.Hour).UTC().Format("060102150405Z")
	for _, id := range revoked {
		serial := fmt.Sprintf("%X", id.Cert.SerialNumber)
		if len(serial)%2 == 1 {
			serial = "0" + serial // openssl ca wants whole bytes
		}
		fmt.Fprintf(&index, "R\t%s\t%s\t%s\tunknown\t/CN=revoked\n",
			id.Cert.NotAfter.UTC().Format("060102150405Z"), when, serial)
	}
	p.n++
	name := fmt.Sprintf("crl%d", p.n)
	indexFile := p.O.WriteFile(t, name+".index", []byte(index.String()))
	p.O.WriteFile(t, name+".crlnumber", []byte("01\n"))
	conf := p.O.WriteFile(t, name+".cnf", []byte(fmt.Sprintf(`[ca]
default_ca = root
[root]
database = %s
crlnumber = %s
default_md = md_gost12_256
default_crl_days = 30
`, indexFile, p.O.Path(name+".crlnumber"))))
	out := p.O.Path(name + ".pem")
	p.O.MustRun(t, nil, "ca", "-gencrl", "-config", conf, "-keyfile", p.Root.KeyFile, "-cert", p.Root.CertFile, "-out", out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := certs.ParseCRL(data)
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return out, crl
}
