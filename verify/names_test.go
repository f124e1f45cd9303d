package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// TestReportNamesAreText: the names in a report are decoded text, also
// for the attributes Go's crypto/x509 does not know (surname, given name,
// СНИЛС, ИНН), never "2.5.4.42=#0c…" hex.
func TestReportNamesAreText(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	now := time.Now()
	name := pkix.Name{CommonName: "Иванов Иван Иванович", ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 4}, Value: "Иванов"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 42}, Value: "Иван Иванович"},
	}}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: name, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := certs.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certs.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("документ")
	sig, err := sign.Sign(context.Background(), bytes.NewReader(content), key, cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: []*certs.Certificate{cert}, Content: bytes.NewReader(content)})
	if err != nil || len(rep.Signers) != 1 || rep.Signers[0].Certificate == nil {
		t.Fatalf("%v %+v", err, rep)
	}
	ci := rep.Signers[0].Certificate
	for _, s := range []string{ci.Subject, ci.Issuer, rep.Summary("ru")} {
		if strings.Contains(s, "#0c") || strings.Contains(s, "2.5.4.42") || !strings.Contains(s, "Иван Иванович") {
			t.Errorf("name not decoded: %q", s)
		}
	}
	for _, c := range rep.Signers[0].Checks {
		if c.Code == "SIGNER_CERTIFICATE" && (strings.Contains(c.Detail, "#") || !strings.Contains(c.Detail, "Иванов")) {
			t.Errorf("SIGNER_CERTIFICATE detail %q", c.Detail)
		}
	}
}
