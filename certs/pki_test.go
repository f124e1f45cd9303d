package certs

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/internal/ossltest"
)

// testPKI makes keys, certificates and CRLs with OpenSSL and the gost engine.
type testPKI struct {
	t    testing.TB
	o    *ossltest.OpenSSL
	conf string // the engine configuration; CA sections are appended for CRLs
	n    int
	days int // validity of the next certificates, from now; 0 means 365
	// crlV2 makes CRLs with an authorityKeyIdentifier extension (version 2);
	// without it OpenSSL writes version 1 CRLs.
	crlV2 bool
}

// testCA is a certificate made by testPKI with its key.
type testCA struct {
	*Certificate
	name, certPath, keyPath string
	keyAlg                  string
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	o := ossltest.New(t)
	conf, err := os.ReadFile(o.Conf)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{t: t, o: o, conf: string(conf)}
}

// keyArgs are the genpkey arguments for the key algorithms the tests use.
var keyArgs = map[string][]string{
	"gost256":      {"-algorithm", "gost2012_256", "-pkeyopt", "paramset:A"},
	"gost256b":     {"-algorithm", "gost2012_256", "-pkeyopt", "paramset:B"},
	"gost256tc26a": {"-algorithm", "gost2012_256", "-pkeyopt", "paramset:TCA"},
	"gost512":      {"-algorithm", "gost2012_512", "-pkeyopt", "paramset:A"},
	"gost512c":     {"-algorithm", "gost2012_512", "-pkeyopt", "paramset:C"},
	"gost2001":     {"-algorithm", "gost2001", "-pkeyopt", "paramset:A"},
	"rsa":          {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"},
	"ec":           {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"},
}

// mdFor is the digest option OpenSSL signs with for a key algorithm.
func mdFor(alg string) string {
	switch {
	case strings.HasPrefix(alg, "gost512"):
		return "md_gost12_512"
	case alg == "gost2001":
		return "md_gost94"
	case strings.HasPrefix(alg, "gost"):
		return "md_gost12_256"
	}
	return "sha256"
}

func (p *testPKI) next(prefix string) string {
	p.n++
	return fmt.Sprintf("%s%d", prefix, p.n)
}

func (p *testPKI) key(alg string) string {
	p.t.Helper()
	args, ok := keyArgs[alg]
	if !ok {
		p.t.Fatalf("unknown key algorithm %q", alg)
	}
	path := p.o.Path(p.next("key") + ".pem")
	p.o.MustRun(p.t, nil, append(append([]string{"genpkey"}, args...), "-out", path)...)
	return path
}

// Extension sets for the tests.
const (
	extRoot = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n"
	extCA   = extRoot + "authorityKeyIdentifier=keyid\n"
	extLeaf = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=clientAuth,emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
)

// root makes a self-signed certificate with the extensions ext.
func (p *testPKI) root(subj, alg, ext string) *testCA {
	p.t.Helper()
	return p.issue(nil, subj, alg, ext)
}

// issue makes a certificate for subj with a new key of alg, signed by parent
// (self-signed when parent is nil), valid from now for p.days (a year when 0).
func (p *testPKI) issue(parent *testCA, subj, alg, ext string) *testCA {
	p.t.Helper()
	return p.issueKey(parent, subj, p.key(alg), alg, ext)
}

// issueKey is issue for an existing key.
func (p *testPKI) issueKey(parent *testCA, subj, keyPath, alg, ext string) *testCA {
	p.t.Helper()
	name := p.next("cert")
	c := &testCA{name: name, keyPath: keyPath, certPath: p.o.Path(name + ".pem"), keyAlg: alg}
	days := p.days
	if days == 0 {
		days = 365
	}
	extPath := p.o.WriteFile(p.t, name+".ext", []byte("[ext]\n"+ext))
	csr := p.o.Path(name + ".csr")
	p.o.MustRun(p.t, nil, "req", "-new", "-utf8", "-key", c.keyPath, "-subj", subj, "-out", csr)
	args := []string{"x509", "-req", "-in", csr, "-days", fmt.Sprint(days), "-set_serial", fmt.Sprint(1000 + p.n),
		"-extfile", extPath, "-extensions", "ext", "-out", c.certPath}
	if parent == nil {
		args = append(args, "-key", c.keyPath, "-"+mdFor(alg))
	} else {
		args = append(args, "-CA", parent.certPath, "-CAkey", parent.keyPath, "-"+mdFor(parent.keyAlg))
	}
	p.o.MustRun(p.t, nil, args...)
	c.Certificate = p.load(c.certPath)
	return c
}

func (p *testPKI) load(path string) *Certificate {
	p.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		p.t.Fatal(err)
	}
	cs, err := ParseCertificates(data)
	if err != nil {
		p.t.Fatalf("%s: %v", path, err)
	}
	return cs[0]
}

// crl makes a CRL signed by ca listing revoked with the given revocation times.
func (p *testPKI) crl(ca *testCA, thisUpdate, nextUpdate time.Time, revoked map[*testCA]time.Time) *CRL {
	p.t.Helper()
	name := p.next("crl")
	const asn1Time, indexTime = "20060102150405Z", "060102150405Z"
	var index strings.Builder
	for c, at := range revoked {
		fmt.Fprintf(&index, "R\t%s\t%s\t%s\tunknown\t/CN=%s\n", c.NotAfter.UTC().Format(indexTime), at.UTC().Format(indexTime), strings.ToUpper(c.SerialHex()), c.name)
	}
	db := p.o.WriteFile(p.t, name+".index", []byte(index.String()))
	p.conf += fmt.Sprintf("\n[%s]\ndatabase = %s\n", name, db)
	if p.crlV2 {
		p.conf += fmt.Sprintf("crl_extensions = %s_ext\n[%s_ext]\nauthorityKeyIdentifier = keyid\n", name, name)
	}
	if err := os.WriteFile(p.o.Conf, []byte(p.conf), 0o600); err != nil {
		p.t.Fatal(err)
	}
	out := p.o.Path(name + ".pem")
	p.o.MustRun(p.t, nil, "ca", "-gencrl", "-name", name, "-keyfile", ca.keyPath, "-cert", ca.certPath, "-md", mdFor(ca.keyAlg),
		"-crl_lastupdate", thisUpdate.UTC().Format(asn1Time), "-crl_nextupdate", nextUpdate.UTC().Format(asn1Time), "-out", out)
	data, err := os.ReadFile(out)
	if err != nil {
		p.t.Fatal(err)
	}
	l, err := ParseCRL(data)
	if err != nil {
		p.t.Fatal(err)
	}
	return l
}
