package certs

import (
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/internal/ossltest"
)

// TestGOST2001OpenSSL has the gost engine make GOST R 34.10-2001 keys on
// every 2001 parameter set it offers, a self-signed certificate (GOST R
// 34.11-94 with GOST R 34.10-2001) and raw signatures of messages, and checks
// that kep reads the keys, verifies both, catches a flipped byte, refuses to
// load the private key for signing, and refuses a 2001 key with a 2012
// signature algorithm.
func TestGOST2001OpenSSL(t *testing.T) {
	o := ossltest.New(t)
	sets := []struct{ engine, name string }{
		{"A", "cryptopro-a"}, {"B", "cryptopro-b"}, {"C", "cryptopro-c"}, {"XA", "cryptopro-xcha"}, {"XB", "cryptopro-xchb"},
	}
	conf := o.WriteFile(t, "req.cnf", []byte("[req]\ndistinguished_name=dn\n[dn]\n"))
	checked := 0
	for _, s := range sets {
		key := o.Path(s.name + ".key")
		o.MustRun(t, nil, "genpkey", "-algorithm", "gost2001", "-pkeyopt", "paramset:"+s.engine, "-out", key)
		certFile := o.Path(s.name + ".pem")
		o.MustRun(t, nil, "req", "-new", "-x509", "-key", key, "-md_gost94", "-days", "30", "-subj", "/CN=2001 "+s.name, "-config", conf, "-out", certFile)
		data, err := os.ReadFile(certFile)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := ParseCertificates(data)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		c := cs[0]
		if !c.IsGOST2001() || c.KeyAlgorithm != "GOST R 34.10-2001 ("+s.name+")" {
			t.Fatalf("%s: key read as %q (2001: %v)", s.name, c.KeyAlgorithm, c.IsGOST2001())
		}
		if c.SignatureAlgorithmName() != "GOST R 34.10-2001 with GOST R 34.11-94" {
			t.Fatalf("%s: signature algorithm %s", s.name, c.SignatureAlgorithmName())
		}
		if err := c.CheckSignatureFrom(c); err != nil {
			t.Fatalf("%s: the engine's 2001 certificate signature: %v", s.name, err)
		}
		bad := append([]byte(nil), c.Signature...)
		bad[10] ^= 1
		if err := checkSignature(c, c.SignatureAlgorithmID, c.RawTBSCertificate, bad); !errors.Is(err, ErrSignatureInvalid) {
			t.Fatalf("%s: a flipped signature byte gives %v", s.name, err)
		}
		// The same signature under the 2012 OID: the key does not fit.
		if err := checkSignature(c, pkix.AlgorithmIdentifier{Algorithm: OIDGOST2012256Sig}, c.RawTBSCertificate, c.Signature); !errors.Is(err, ErrAlgorithmMismatch) {
			t.Fatalf("%s: a 2001 key with a 2012 signature OID gives %v", s.name, err)
		}
		// Raw signatures of messages: openssl dgst -md_gost94 -sign.
		for i := 0; i < 5; i++ {
			msg := []byte(strings.Repeat("архив 2019 ", 1+17*i))
			msgFile := o.WriteFile(t, "msg", msg)
			sig := o.MustRun(t, nil, "dgst", "-md_gost94", "-sign", key, msgFile)
			if err := VerifyMessage(c.PublicKey, pkix.AlgorithmIdentifier{Algorithm: OIDGOST2001Sig}, msg, sig); err != nil {
				t.Fatalf("%s: raw signature %d: %v", s.name, i, err)
			}
			// A CMS signer names the key OID with the 34.11-94 digest.
			if err := c.VerifyDigest(pkix.AlgorithmIdentifier{Algorithm: OIDGOST2001Key}, GOST341194, GOST341194.Sum(msg), sig); err != nil {
				t.Fatalf("%s: raw signature %d under the key OID: %v", s.name, i, err)
			}
			if err := c.VerifyDigest(pkix.AlgorithmIdentifier{Algorithm: OIDGOST2001Key}, GOST341194, GOST341194.Sum(append(msg, '!')), sig); !errors.Is(err, ErrSignatureInvalid) {
				t.Fatalf("%s: signature verifies over another message: %v", s.name, err)
			}
			if err := c.VerifyDigest(pkix.AlgorithmIdentifier{Algorithm: OIDGOST2001Key}, Streebog256, Streebog256.Sum(msg), sig); !errors.Is(err, ErrAlgorithmMismatch) {
				t.Fatalf("%s: 2001 with Streebog gives %v", s.name, err)
			}
			checked++
		}
		// The private key is read by gostkey but refused for signing.
		kb, err := os.ReadFile(key)
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode(kb)
		if info, err := gostkey.ParsePKCS8PrivateKey(blk.Bytes); err != nil || info.Algorithm != gostkey.GOST2001 {
			t.Fatalf("%s: gostkey reads the 2001 key as %v, %v", s.name, info, err)
		}
		if _, err := ParsePrivateKey(kb); !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Fatalf("%s: a 2001 private key loads for signing: %v", s.name, err)
		}
	}
	if _, err := DigestByName("gost3411-94"); err == nil {
		t.Fatal("GOST R 34.11-94 is offered for signing")
	}
	t.Logf("%d parameter sets, %d raw OpenSSL signatures verified (dir %s)", len(sets), checked, filepath.Base(o.Dir))
}
