package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// str encodes s as an ASN.1 string value with the given universal tag.
func str(tag int, s string) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: tag, Bytes: []byte(s)}
}

func mustDER(t *testing.T, f func(b *cryptobyte.Builder)) []byte {
	t.Helper()
	var b cryptobyte.Builder
	f(&b)
	return b.BytesOrPanic()
}

// makeCert signs a certificate for tmpl with a fresh ECDSA key (self-signed).
func makeCert(t *testing.T, tmpl *x509.Certificate) *Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(0x0a1b2c)
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		tmpl.NotAfter = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestQualifiedStringTypes reads the Russian attributes in each string type
// CAs use, and the qualified extensions.
func TestQualifiedStringTypes(t *testing.T) {
	issuerTool := mustDER(t, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, s := range []string{"ПАКМ «КриптоПро HSM»", "ПАК «Удостоверяющий центр «КриптоПро УЦ»", "СФ/124-3966", "СФ/128-3868"} {
				b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
			}
		})
	})
	subjectTool := mustDER(t, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) {
			b.AddBytes([]byte("СКЗИ «КриптоПро CSP» (версия 5.0)"))
		})
	})
	kind := mustDER(t, func(b *cryptobyte.Builder) { b.AddASN1Int64(3) })
	want := Qualified{
		Surname: "Иванов", GivenName: "Иван Иванович", CommonName: "Иванов Иван Иванович",
		Organization: "ООО «Ромашка»", OrganizationalUnit: "Бухгалтерия", Title: "Главный бухгалтер",
		Country: "RU", Region: "77 г. Москва", Locality: "Москва", Street: "ул. Тверская, д. 1",
		Email: "ivanov@example.ru", INN: "500100732259", INNLE: "7707083893", OGRN: "1027700132195",
		SNILS:              "11223344595",
		SubjectSignTool:    "СКЗИ «КриптоПро CSP» (версия 5.0)",
		IssuerSignTool:     &IssuerSignTool{"ПАКМ «КриптоПро HSM»", "ПАК «Удостоверяющий центр «КриптоПро УЦ»", "СФ/124-3966", "СФ/128-3868"},
		SigningToolClasses: []string{"КС1", "КС2"},
		KeyUsage:           []string{"digitalSignature", "nonRepudiation", "keyEncipherment"},
		ExtKeyUsage:        []string{"clientAuth", "emailProtection", "1.2.643.2.2.34.6"},
		NotBefore:          time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:           time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		IssuerCommonName:   "Иванов Иван Иванович",
		IssuerOrganization: "ООО «Ромашка»",
		Serial:             "0a1b2c",
		Problems:           []FieldProblem{},
	}
	ek := IdentifiedByESIA
	want.IdentificationKind = &ek
	for _, tag := range []int{asn1.TagNumericString, asn1.TagPrintableString, asn1.TagUTF8String} {
		name := pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: str(asn1.TagPrintableString, "RU")},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 8}, Value: "77 г. Москва"},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 7}, Value: "Москва"},
			{Type: OIDStreet, Value: "ул. Тверская, д. 1"},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "ООО «Ромашка»"},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 11}, Value: "Бухгалтерия"},
			{Type: OIDTitle, Value: "Главный бухгалтер"},
			{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "Иванов Иван Иванович"},
			{Type: OIDSurname, Value: "Иванов"},
			{Type: OIDGivenName, Value: "Иван Иванович"},
			{Type: OIDEmailAddress, Value: str(asn1.TagIA5String, "ivanov@example.ru")},
			{Type: OIDINN, Value: str(tag, "500100732259")},
			{Type: OIDINNLE, Value: str(tag, "7707083893")},
			{Type: OIDOGRN, Value: str(tag, "1027700132195")},
			{Type: OIDSNILS, Value: str(tag, "11223344595")},
		}}
		c := makeCert(t, &x509.Certificate{
			Subject:            name,
			KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection},
			UnknownExtKeyUsage: []asn1.ObjectIdentifier{{1, 2, 643, 2, 2, 34, 6}},
			Policies:           []x509.OID{mustOID(t, 1, 2, 643, 100, 113, 1), mustOID(t, 1, 2, 643, 100, 113, 2), mustOID(t, 1, 2, 3)},
			ExtraExtensions: []pkix.Extension{
				{Id: OIDSubjectSignTool, Value: subjectTool},
				{Id: OIDIssuerSignTool, Value: issuerTool},
				{Id: OIDIdentificationKind, Value: kind},
			},
		})
		if !reflect.DeepEqual(c.Qualified, want) {
			t.Errorf("string tag %d:\n got %+v\nwant %+v", tag, c.Qualified, want)
		}
	}
}

func TestQualifiedProblems(t *testing.T) {
	short := mustDER(t, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("one")) })
		})
	})
	c := makeCert(t, &x509.Certificate{
		Subject: pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "Петров"},
			{Type: OIDSNILS, Value: "11223344596"},
			{Type: OIDINN, Value: "500100732250"},
			{Type: OIDINNLE, Value: "500100732259"},
			{Type: OIDOGRN, Value: "1027700132195"},
			{Type: OIDOGRN, Value: "1027700229193"},
			{Type: OIDOGRNIP, Value: "30450011600015"},
		}},
		EmailAddresses: []string{"petrov@example.ru"},
		ExtraExtensions: []pkix.Extension{
			{Id: OIDIssuerSignTool, Value: short},
			{Id: OIDIdentificationKind, Value: mustDER(t, func(b *cryptobyte.Builder) { b.AddASN1Int64(7) })},
			{Id: OIDSubjectSignTool, Value: mustDER(t, func(b *cryptobyte.Builder) { b.AddASN1Int64(1) })},
		},
	})
	q := c.Qualified
	if q.Email != "petrov@example.ru" {
		t.Errorf("email from subjectAltName: %q", q.Email)
	}
	if q.SNILS != "11223344596" || q.OGRN != "1027700132195" || q.IssuerSignTool != nil || q.IdentificationKind != nil {
		t.Errorf("fields %+v", q)
	}
	wantFields := map[string]string{
		"snils":              "control number 96",
		"inn":                "12th digit",
		"innLE":              "want 10 digits",
		"ogrn":               "appears 2 times",
		"ogrnip":             "14 digits",
		"issuerSignTool":     "has 1 strings, want 4",
		"identificationKind": "value 7",
		"subjectSignTool":    "not a string type",
	}
	got := map[string]string{}
	for _, p := range q.Problems {
		got[p.Field] += p.Message
	}
	for f, msg := range wantFields {
		if !strings.Contains(got[f], msg) {
			t.Errorf("problem for %s: %q, want one saying %q", f, got[f], msg)
		}
	}
	if len(got) != len(wantFields) {
		t.Errorf("problems %+v", q.Problems)
	}
}

func TestParseCertificatesForms(t *testing.T) {
	a := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "A"}})
	b := makeCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "B"}})
	pemA := "-----BEGIN CERTIFICATE-----\n" + wrap64(a.Raw) + "-----END CERTIFICATE-----\n"
	pemB := "-----BEGIN CERTIFICATE-----\n" + wrap64(b.Raw) + "-----END CERTIFICATE-----\n"
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"DER", string(a.Raw), []string{"A"}},
		{"PEM bundle", "junk before\n" + pemA + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + pemB, []string{"A", "B"}},
		{"base64 without armour", wrap64(b.Raw), []string{"B"}},
	} {
		cs, err := ParseCertificates([]byte(tc.in))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, c := range cs {
			got = append(got, c.Subject.CommonName)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, bad := range []string{"", "hello", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "\x30\x03\x02\x01\x01"} {
		if _, err := ParseCertificates([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if a.Thumbprint() != strings.ToUpper(a.Thumbprint()) || len(a.Thumbprint()) != 40 {
		t.Errorf("thumbprint %q", a.Thumbprint())
	}
}

func mustOID(t *testing.T, arcs ...uint64) x509.OID {
	t.Helper()
	o, err := x509.OIDFromInts(arcs)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func wrap64(der []byte) string {
	s := base64.StdEncoding.EncodeToString(der)
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	return b.String() + s + "\n"
}
