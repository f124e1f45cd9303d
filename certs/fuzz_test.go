package certs

import (
	"bytes"
	"crypto"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// pkiDir is the fixture PKI made by testdata/pki/generate.sh.
const pkiDir = "../testdata/pki"

// fuzzSeeds returns the files of testdata/pki whose names end in one of exts.
func fuzzSeeds(f *testing.F, exts ...string) [][]byte {
	f.Helper()
	var out [][]byte
	files, _ := filepath.Glob(filepath.Join(pkiDir, "*"))
	for _, name := range files {
		for _, ext := range exts {
			if strings.HasSuffix(name, ext) {
				b, err := os.ReadFile(name)
				if err != nil {
					f.Fatal(err)
				}
				out = append(out, b)
			}
		}
	}
	return out
}

func FuzzParseCertificate(f *testing.F) {
	p := newTestPKI(f)
	root := p.root("/CN=Fuzz root/SNILS=11223344595/INN=500100732259", "gost512", extRoot+"1.2.643.100.111=ASN1:UTF8String:СКЗИ\n")
	for _, c := range []*testCA{root, p.issue(root, "/CN=Fuzz leaf", "gost256tc26a", extLeaf), p.root("/CN=Fuzz old", "gost2001", extRoot)} {
		f.Add(c.Raw)
	}
	for _, b := range fuzzSeeds(f, ".pem", ".crt", ".cer", ".der") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := ParseCertificates(data)
		if err != nil {
			return
		}
		for _, c := range cs {
			again, err := ParseCertificate(c.Raw)
			if err != nil {
				t.Fatalf("Raw does not re-parse: %v", err)
			}
			if !bytes.Equal(again.Raw, c.Raw) || again.KeyAlgorithm != c.KeyAlgorithm ||
				!reflect.DeepEqual(again.SignatureAlgorithmID, c.SignatureAlgorithmID) ||
				!reflect.DeepEqual(again.Qualified, c.Qualified) || again.Thumbprint() != c.Thumbprint() {
				t.Fatalf("re-parse differs:\n%+v\n%+v", c.Qualified, again.Qualified)
			}
			if k, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && !k.Equal(again.PublicKey) {
				t.Fatal("public key differs after re-parse")
			}
			if _, err := json.Marshal(c); err != nil {
				t.Fatal(err)
			}
			_ = c.CheckSignatureFrom(c)
			r := Verify(c, VerifyOptions{Roots: cs, Purpose: PurposeLogin, At: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
			if r.Indication == "" || len(r.Checks) == 0 {
				t.Fatalf("empty result %+v", r)
			}
		}
	})
}

func FuzzParseCRL(f *testing.F) {
	p := newTestPKI(f)
	now := time.Now()
	root := p.root("/CN=Fuzz CRL root", "gost256", extRoot)
	leaf := p.issue(root, "/CN=Fuzz CRL leaf", "gost256", extLeaf)
	f.Add(p.crl(root, now, now.Add(time.Hour), map[*testCA]time.Time{leaf: now}).Raw)
	p.crlV2 = true
	f.Add(p.crl(root, now, now.Add(time.Hour), map[*testCA]time.Time{leaf: now}).Raw)
	for _, b := range fuzzSeeds(f, ".crl") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseCRL(data)
		if err != nil {
			return
		}
		again, err := ParseCRL(l.Raw)
		if err != nil {
			t.Fatalf("Raw does not re-parse: %v", err)
		}
		if !bytes.Equal(again.RawTBSRevocationList, l.RawTBSRevocationList) || !again.ThisUpdate.Equal(l.ThisUpdate) ||
			!reflect.DeepEqual(again.SignatureAlgorithmID, l.SignatureAlgorithmID) ||
			len(again.RevokedCertificateEntries) != len(l.RevokedCertificateEntries) {
			t.Fatal("re-parse differs")
		}
		for _, e := range l.RevokedCertificateEntries {
			if _, ok := l.Revoked(e.SerialNumber); !ok && e.SerialNumber != nil {
				t.Fatalf("entry %v not found", e.SerialNumber)
			}
		}
		_ = l.CheckSignatureFrom(root.Certificate)
	})
}
