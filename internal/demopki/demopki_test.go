package demopki

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/sign"
)

func TestDemoPKI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	m, err := Create(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if loaded, err := Load(dir); err != nil || len(loaded.Identities) != 3 || loaded.PIN != PIN {
		t.Fatalf("Load: %+v %v", loaded, err)
	}
	caPEM, _ := os.ReadFile(m.Path(CAFile))
	roots, err := certs.ParseCertificates(caPEM)
	if err != nil || len(roots) != 2 {
		t.Fatalf("ca.pem: %d %v", len(roots), err)
	}
	// The CA's own ИНН and ОГРН pass their check digits (kep certs show ca.pem reports none).
	if q := roots[0].Qualified; q.INNLE == "" || q.OGRN == "" || len(q.Problems) != 0 {
		t.Errorf("CA: ИНН %q ОГРН %q, problems %+v", q.INNLE, q.OGRN, q.Problems)
	}
	var crls []*certs.CRL
	for _, f := range []string{CRLFile, RSACRLFile} {
		der, _ := os.ReadFile(m.Path(f))
		crl, err := certs.ParseCRL(der)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		crls = append(crls, crl)
	}

	keys, err := keystore.Open(context.Background(), keystore.Config{SoftDir: m.Path(TokenDir)})
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	entries, err := keys.Certificates(context.Background())
	if err != nil || len(entries) != 3 {
		t.Fatalf("token: %d certificates, %v", len(entries), err)
	}
	o := ossltest.New(t)
	docFile := o.WriteFile(t, "doc.txt", []byte("демо"))
	caFile := o.WriteFile(t, "ca.pem", caPEM)
	for _, id := range m.Identities {
		e, err := keys.Find(context.Background(), id.Thumbprint)
		if err != nil {
			t.Fatalf("%s: %v", id.Role, err)
		}
		c := e.Certificate
		for _, p := range []certs.Purpose{certs.PurposeSigning, certs.PurposeLogin} {
			res := certs.Verify(c, certs.VerifyOptions{Roots: roots, CRLs: crls, Purpose: p})
			if !res.Valid() {
				t.Errorf("%s (%v): %s", id.Role, p, res.Summary("en"))
			}
		}
		q := c.Qualified
		if len(q.Problems) != 0 {
			t.Errorf("%s: qualified fields: %+v", id.Role, q.Problems)
		}
		switch id.Role {
		case "person":
			if q.SNILS == "" || q.INN == "" || q.Surname != "Иванов" || q.SubjectSignTool == "" || q.IssuerSignTool == nil || len(q.SigningToolClasses) == 0 || c.KeyAlgorithm == "" {
				t.Errorf("person: %+v", q)
			}
		case "organization":
			// The organisation's certificate names the person who signs for it.
			if q.OGRN == "" || q.INNLE == "" || q.Organization != "ООО «Ромашка»" || q.Surname != "Петрова" || q.GivenName != "Мария Сергеевна" {
				t.Errorf("organization: %+v", q)
			}
		}
		for _, v := range []struct {
			s  string
			fn func(string) error
		}{{q.SNILS, certs.ValidateSNILS}, {q.INN, certs.ValidateINN}, {q.INNLE, certs.ValidateINN}, {q.OGRN, certs.ValidateOGRN}} {
			if v.s != "" {
				if err := v.fn(v.s); err != nil {
					t.Errorf("%s: %v", id.Role, err)
				}
			}
		}
		// Signed through the token, accepted by openssl cms.
		var sig []byte
		err = keys.Use(context.Background(), id.Thumbprint, keystore.UI{RequestPIN: func(context.Context, keystore.PINRequest) ([]byte, error) {
			return []byte(PIN), nil
		}}, func(k keystore.Signer) error {
			sig, err = sign.Sign(context.Background(), bytes.NewReader([]byte("демо")), k, c, sign.Options{Chain: e.Chain})
			return err
		})
		if err != nil {
			t.Fatalf("%s: sign: %v", id.Role, err)
		}
		sigFile := o.WriteFile(t, id.Role+".sig", sig)
		if out, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", docFile,
			"-CAfile", caFile, "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Errorf("%s: openssl cms -verify: %v %s", id.Role, err, out)
		}
	}
	// The CRLs verify with openssl as well.
	for _, f := range []string{CRLFile, RSACRLFile} {
		if out, err := o.Run(nil, "crl", "-inform", "DER", "-in", m.Path(f), "-CAfile", caFile, "-noout"); err != nil {
			t.Errorf("%s: %v %s", f, err, out)
		}
	}
}

func TestDemoPKIIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	first, err := Create(dir, Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dir, Options{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	if again, err := Load(dir); err != nil || again.Identities[0].Thumbprint != first.Identities[0].Thumbprint {
		t.Fatalf("the refused Create changed the demo: %v", err)
	}
	second, err := Create(dir, Options{Force: true, CRLURL: "http://127.0.0.1:9999/demo/ca.crl"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Identities[0].Thumbprint == first.Identities[0].Thumbprint || second.CRLURL != "http://127.0.0.1:9999/demo/ca.crl" {
		t.Errorf("--force did not make a new demo")
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".kep-demo-*"))
	if len(left) != 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

func TestCheckDigits(t *testing.T) {
	for _, s := range []string{withSNILSCheck("112233445"), withSNILSCheck("123456789"), withSNILSCheck("000000001")} {
		if err := certs.ValidateSNILS(s); err != nil {
			t.Error(err)
		}
	}
	for _, s := range []string{withINN10Check("770123456"), withINN12Check("7701234567"), withINN12Check("5001007322")} {
		if err := certs.ValidateINN(s); err != nil {
			t.Error(err)
		}
	}
	if err := certs.ValidateOGRN(withOGRNCheck("102770012345")); err != nil {
		t.Error(err)
	}
	// Known numbers: the check digits computed here are the published ones.
	if withINN12Check("5001007322") != "500100732259" || withINN10Check("770708389") != "7707083893" || withOGRNCheck("102770013219") != "1027700132195" {
		t.Error("check digits differ from known valid numbers")
	}
}
