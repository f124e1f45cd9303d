package cades

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

func oid(s ...int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier(s) }

// rawValue encodes a string with a given ASN.1 string tag.
func rawValue(tag int, s string) asn1.RawValue {
	return asn1.RawValue{Tag: tag, Class: asn1.ClassUniversal, Bytes: []byte(s)}
}

func bmp(s string) asn1.RawValue {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r>>8), byte(r))
	}
	return asn1.RawValue{Tag: 30, Class: asn1.ClassUniversal, Bytes: b}
}

func name(t *testing.T, rdns ...[]pkix.AttributeTypeAndValue) []byte {
	t.Helper()
	var seq pkix.RDNSequence
	for _, r := range rdns {
		seq = append(seq, pkix.RelativeDistinguishedNameSET(r))
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func atv(o asn1.ObjectIdentifier, v any) []pkix.AttributeTypeAndValue {
	return []pkix.AttributeTypeAndValue{{Type: o, Value: v}}
}

var (
	oidCN     = oid(2, 5, 4, 3)
	oidSN     = oid(2, 5, 4, 4)
	oidG      = oid(2, 5, 4, 42)
	oidC      = oid(2, 5, 4, 6)
	oidO      = oid(2, 5, 4, 10)
	oidOU     = oid(2, 5, 4, 11)
	oidS      = oid(2, 5, 4, 8)
	oidL      = oid(2, 5, 4, 7)
	oidStreet = oid(2, 5, 4, 9)
	oidT      = oid(2, 5, 4, 12)
	oidE      = oid(1, 2, 840, 113549, 1, 9, 1)
	oidINN    = oid(1, 2, 643, 3, 131, 1, 1)
	oidOGRN   = oid(1, 2, 643, 100, 1)
	oidSNILS  = oid(1, 2, 643, 100, 3)
	oidINNLE  = oid(1, 2, 643, 100, 4)
	oidOGRNIP = oid(1, 2, 643, 100, 5)
)

// TestFormatName pins SubjectName/IssuerName as CryptoAPI writes them:
// reverse order, labels, quoting, multi-valued RDNs, unknown OIDs.
func TestFormatName(t *testing.T) {
	for _, c := range []struct {
		name string
		der  []byte
		want string
	}{
		{"reverse order, CN first", name(t, atv(oidC, rawValue(19, "RU")), atv(oidO, "ООО Ромашка"), atv(oidCN, "Иванов Иван Иванович")),
			"CN=Иванов Иван Иванович, O=ООО Ромашка, C=RU"},
		{"Russian labels", name(t, atv(oidSNILS, rawValue(18, "12345678901")), atv(oidINN, rawValue(18, "771234567890")),
			atv(oidOGRN, rawValue(18, "1027700132195")), atv(oidOGRNIP, rawValue(18, "304500116000157")), atv(oidINNLE, rawValue(18, "7707083893"))),
			"ИНН ЮЛ=7707083893, ОГРНИП=304500116000157, ОГРН=1027700132195, ИНН=771234567890, СНИЛС=12345678901"},
		{"X.500 labels", name(t, atv(oidE, rawValue(22, "a@b.ru")), atv(oidS, "77 г. Москва"), atv(oidL, "Москва"), atv(oidStreet, "ул. Ленина, д. 1"),
			atv(oidOU, "Отдел"), atv(oidT, "Директор"), atv(oidSN, "Иванов"), atv(oidG, "Иван Иванович")),
			`G=Иван Иванович, SN=Иванов, T=Директор, OU=Отдел, STREET="ул. Ленина, д. 1", L=Москва, S=77 г. Москва, E=a@b.ru`},
		{"quotes doubled", name(t, atv(oidO, `ООО "Ромашка"`)), `O="ООО ""Ромашка"""`},
		{"comma quoted", name(t, atv(oidCN, "Иванов, Иван")), `CN="Иванов, Иван"`},
		{"plus, equals, semicolon, angle brackets, hash", name(t, atv(oidCN, "a+b"), atv(oidO, "x=y"), atv(oidOU, "p;q"), atv(oidT, "<t>"), atv(oidL, "#1")),
			`L="#1", T="<t>", OU="p;q", O="x=y", CN="a+b"`},
		{"leading and trailing space", name(t, atv(oidCN, " a"), atv(oidO, "b ")), `O="b ", CN=" a"`},
		{"empty value", name(t, atv(oidCN, "")), `CN=""`},
		{"line break", name(t, atv(oidCN, "a\nb")), "CN=\"a\nb\""},
		{"unknown OID", name(t, atv(oid(1, 2, 643, 100, 111), "КриптоПро CSP"), atv(oidCN, "x")), "CN=x, OID.1.2.643.100.111=КриптоПро CSP"},
		{"multi-valued RDN", name(t, []pkix.AttributeTypeAndValue{{Type: oidCN, Value: "a"}, {Type: oidO, Value: "b"}}), "CN=a + O=b"},
		{"BMPString", name(t, atv(oidCN, bmp("Пётр"))), "CN=Пётр"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := FormatName(c.der)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
	if _, err := FormatName([]byte{0x30, 0x03, 0x01}); err == nil {
		t.Error("a truncated name was formatted")
	}
}

func TestSimpleName(t *testing.T) {
	for _, c := range []struct {
		der  []byte
		want string
	}{
		{name(t, atv(oidO, "Орг"), atv(oidCN, "Имя")), "Имя"},
		{name(t, atv(oidOU, "Отдел"), atv(oidO, "Орг")), "Орг"},
		{name(t, atv(oidE, rawValue(22, "a@b.ru"))), "a@b.ru"},
		{name(t, atv(oidC, rawValue(19, "RU"))), ""},
	} {
		if got := simpleName(c.der); got != c.want {
			t.Errorf("simpleName = %q, want %q", got, c.want)
		}
	}
}
