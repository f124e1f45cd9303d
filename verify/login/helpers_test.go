package login

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
)

// Subject and fields of the qualified test certificate.
const (
	qualifiedSubj = "/SN=Иванов/GN=Иван Иванович/CN=Иванов Иван Иванович/O=ООО Ромашка/title=Директор" +
		"/1.2.643.100.3=11223344595/1.2.643.3.131.1.1=500100732259/1.2.643.100.1=1027700132195/INNLE=7707083893/C=RU"
	extLogin      = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=clientAuth,emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
	extEncipher   = "basicConstraints=CA:FALSE\nkeyUsage=critical,keyEncipherment\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
	extEmailOnly  = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
	defaultOrigin = "https://portal.example.ru"
)

var leafSerial = 5000

// issue makes a leaf signed by p's root with openssl: subject subj, the
// extensions ext, valid for days days from now.
func issue(t testing.TB, p *testpki.PKI, subj, ext string, days int) *testpki.Identity {
	t.Helper()
	leafSerial++
	name := fmt.Sprintf("login%d", leafSerial)
	o := p.O
	key := o.Path(name + ".key")
	o.MustRun(t, nil, append(append([]string{"genpkey"}, testpki.CryptoProA.Args...), "-out", key)...)
	csr := o.Path(name + ".csr")
	// OpenSSL knows no name for ИНН ЮЛ; the request's configuration gives one.
	conf := o.WriteFile(t, name+".cnf", []byte("oid_section=oids\n[oids]\nINNLE=1.2.643.100.4\n[req]\ndistinguished_name=dn\n[dn]\n"))
	o.MustRun(t, nil, "req", "-new", "-config", conf, "-key", key, "-subj", subj, "-utf8", "-out", csr)
	extFile := o.WriteFile(t, name+".ext", []byte(ext))
	cert := o.Path(name + ".pem")
	o.MustRun(t, nil, "x509", "-req", "-in", csr, "-CA", p.Root.CertFile, "-CAkey", p.Root.KeyFile,
		"-md_gost12_256", "-days", fmt.Sprint(days), "-set_serial", fmt.Sprint(leafSerial), "-extfile", extFile, "-out", cert)
	cb, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParseCertificates(cb)
	if err != nil || len(cs) != 1 {
		t.Fatalf("%s: %v", cert, err)
	}
	kb, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := certs.ParsePrivateKey(kb)
	if err != nil {
		t.Fatal(err)
	}
	return &testpki.Identity{Key: testpki.CryptoProA, CertFile: cert, KeyFile: key, Cert: cs[0], Signer: signer}
}

// clockAt returns a clock fixed at base+d.
func clockAt(base time.Time, d time.Duration) func() time.Time {
	return func() time.Time { return base.Add(d) }
}

var bg = context.Background()
