package cms

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"
)

func sample() *SignedData {
	return &SignedData{
		Version:          1,
		DigestAlgorithms: []pkix.AlgorithmIdentifier{{Algorithm: asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}}},
		EContentType:     OIDData,
		EContent:         []byte("content"),
		Certificates:     [][]byte{{0x30, 0x03, 0x02, 0x01, 0x02}, {0x30, 0x03, 0x02, 0x01, 0x01}},
		SignerInfos: []SignerInfo{{
			Version:         1,
			IssuerAndSerial: &IssuerAndSerial{RawIssuer: []byte{0x30, 0x00}, Serial: big.NewInt(7)},
			DigestAlgorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}},
			SignedAttrs: []Attribute{
				{Type: OIDAttrMessageDigest, Values: [][]byte{MarshalOctets([]byte{1, 2, 3})}},
				{Type: OIDAttrContentType, Values: [][]byte{MarshalOID(OIDData)}},
				{Type: OIDAttrSigningTime, Values: [][]byte{MarshalTime(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))}},
			},
			SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1}},
			Signature:          bytes.Repeat([]byte{0xAB}, 64),
		}},
	}
}

// TestRoundTrip: Marshal → Parse → Marshal is the identity, SET OF elements
// come out sorted, and signed attributes keep their received bytes.
func TestRoundTrip(t *testing.T) {
	der, err := sample().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	again, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(der, again) {
		t.Fatalf("re-encoding differs")
	}
	if !bytes.Equal(sd.Certificates[0], []byte{0x30, 0x03, 0x02, 0x01, 0x01}) {
		t.Fatal("certificates SET OF not sorted")
	}
	attrs := sd.SignerInfos[0].SignedAttrs
	for i := 1; i < len(attrs); i++ {
		a, _ := MarshalAttributes(attrs[i-1 : i])
		b, _ := MarshalAttributes(attrs[i : i+1])
		if bytes.Compare(a, b) > 0 {
			t.Fatal("signed attributes not sorted")
		}
	}
	if sd.SignerInfos[0].SignedAttrsForSignature()[0] != 0x31 {
		t.Fatal("signed attributes for the signature must carry the SET tag")
	}
	if _, n := sd.SignerInfos[0].Attr(OIDAttrContentType); n != 1 {
		t.Fatal("Attr")
	}
	when, err := ParseTime(sd.SignerInfos[0].SignedAttrs[2].Values[0])
	if err != nil || !when.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("signingTime: %v %v", when, err)
	}
}

func TestTimeEncoding(t *testing.T) {
	for _, c := range []struct {
		when time.Time
		tag  byte
	}{
		{time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC), 0x18},
		{time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), 0x17},
		{time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), 0x17},
		{time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), 0x18},
	} {
		der := MarshalTime(c.when)
		if len(der) == 0 || der[0] != c.tag {
			t.Errorf("%v: %x, want tag %x (UTCTime 1950 through 2049, GeneralizedTime otherwise)", c.when, der, c.tag)
			continue
		}
		if back, err := ParseTime(der); err != nil || !back.Equal(c.when) {
			t.Errorf("%v: read back %v, %v", c.when, back, err)
		}
	}
}

// TestMinimalEncoding: a SignedData without certificates, CRLs, signed or
// unsigned attributes is written without those optional fields (not as
// empty SETs), byte for byte as encoding/asn1 writes the same structure.
func TestMinimalEncoding(t *testing.T) {
	alg := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}}
	sigAlg := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1}}
	sd := &SignedData{Version: 1, DigestAlgorithms: []pkix.AlgorithmIdentifier{alg}, EContentType: OIDData,
		SignerInfos: []SignerInfo{{Version: 3, SubjectKeyID: []byte{9, 9}, DigestAlgorithm: alg, SignatureAlgorithm: sigAlg, Signature: []byte{1, 2}}}}
	got, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	type signerInfo struct {
		Version   int
		SKI       []byte `asn1:"tag:0"`
		Digest    pkix.AlgorithmIdentifier
		SigAlg    pkix.AlgorithmIdentifier
		Signature []byte
	}
	type encap struct{ Type asn1.ObjectIdentifier }
	type signedData struct {
		Version int
		Algs    []pkix.AlgorithmIdentifier `asn1:"set"`
		Encap   encap
		Signers []signerInfo `asn1:"set"`
	}
	inner, err := asn1.Marshal(signedData{1, []pkix.AlgorithmIdentifier{alg}, encap{OIDData}, []signerInfo{{3, []byte{9, 9}, alg, sigAlg, []byte{1, 2}}}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{OIDSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("minimal SignedData\n got %x\nwant %x", got, want)
	}
}

func TestESS(t *testing.T) {
	id := ESSCertIDv2{
		HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}},
		CertHash:      bytes.Repeat([]byte{1}, 32),
		IssuerSerial:  &IssuerAndSerial{RawIssuer: []byte{0x30, 0x00}, Serial: big.NewInt(1234567)},
	}
	der, err := MarshalSigningCertificateV2(id)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := ParseSigningCertificateV2(der)
	if err != nil || len(ids) != 1 {
		t.Fatal(err)
	}
	got := ids[0]
	if !got.HashAlgorithm.Algorithm.Equal(id.HashAlgorithm.Algorithm) || !bytes.Equal(got.CertHash, id.CertHash) ||
		!bytes.Equal(got.IssuerSerial.RawIssuer, id.IssuerSerial.RawIssuer) || got.IssuerSerial.Serial.Cmp(id.IssuerSerial.Serial) != 0 {
		t.Fatalf("ESS round trip: %+v", got)
	}
	// SHA-256 is the DER default and is left out; parsing puts it back.
	id.HashAlgorithm.Algorithm = OIDSHA256
	der, _ = MarshalSigningCertificateV2(id)
	ids, err = ParseSigningCertificateV2(der)
	if err != nil || !ids[0].HashAlgorithm.Algorithm.Equal(OIDSHA256) {
		t.Fatalf("default hash: %v", err)
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, {0x30, 0x02, 0x30, 0x00}, append(der, 0)} {
		if _, err := ParseSigningCertificateV2(bad); err == nil {
			t.Errorf("accepted %x", bad)
		}
	}
}

func TestParseErrors(t *testing.T) {
	der, _ := sample().Marshal()
	for i := 0; i < len(der); i += 7 {
		if _, err := Parse(der[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
	other, _ := asn1.Marshal(struct {
		OID asn1.ObjectIdentifier
	}{OIDData})
	if _, err := Parse(other); err == nil {
		t.Fatal("non-SignedData accepted")
	}
}

// canonical describes sd with every SET OF in sorted order, so that two
// SignedData equal up to the order of their SET OF elements (which Marshal
// sorts) describe the same.
func canonical(t *testing.T, sd *SignedData) string {
	t.Helper()
	der := func(v any) string {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatalf("asn1.Marshal(%v): %v", v, err)
		}
		return hex.EncodeToString(b)
	}
	sorted := func(ss []string) string {
		ss = append([]string(nil), ss...)
		sort.Strings(ss)
		return "{" + strings.Join(ss, ",") + "}"
	}
	hexes := func(bs [][]byte) []string {
		var out []string
		for _, b := range bs {
			out = append(out, hex.EncodeToString(b))
		}
		return out
	}
	attrs := func(as []Attribute) string {
		var out []string
		for _, a := range as {
			out = append(out, a.Type.String()+"="+sorted(hexes(a.Values)))
		}
		return sorted(out)
	}
	var algs, sis []string
	for _, a := range sd.DigestAlgorithms {
		algs = append(algs, der(a))
	}
	for _, si := range sd.SignerInfos {
		sid := "ski:" + hex.EncodeToString(si.SubjectKeyID)
		if si.IssuerAndSerial != nil {
			sid = "ias:" + hex.EncodeToString(si.IssuerAndSerial.RawIssuer) + "/" + si.IssuerAndSerial.Serial.String()
		}
		signed := "raw:" + hex.EncodeToString(si.RawSignedAttrs)
		if si.RawSignedAttrs == nil {
			signed = "parsed:" + attrs(si.SignedAttrs)
		}
		sis = append(sis, fmt.Sprintf("v%d %s %s %s %s %x %s", si.Version, sid, der(si.DigestAlgorithm), signed,
			der(si.SignatureAlgorithm), si.Signature, attrs(si.UnsignedAttrs)))
	}
	econtent := "detached"
	if sd.EContent != nil {
		econtent = hex.EncodeToString(sd.EContent)
	}
	return fmt.Sprintf("v%d algs%s %v %s certs%s crls%s signers%s", sd.Version, sorted(algs), sd.EContentType, econtent,
		sorted(hexes(sd.Certificates)), sorted(hexes(sd.CRLs)), sorted(sis))
}

// TestRoundTripStructure: the structure survives Marshal → Parse, detached
// and with a subjectKeyIdentifier too.
func TestRoundTripStructure(t *testing.T) {
	detached := sample()
	detached.EContent = nil
	detached.CRLs = [][]byte{{0x30, 0x00}}
	detached.SignerInfos[0].IssuerAndSerial = nil
	detached.SignerInfos[0].SubjectKeyID = []byte{1, 2, 3}
	detached.SignerInfos[0].UnsignedAttrs = []Attribute{{Type: OIDAttrSignatureTimeStamp, Values: [][]byte{{0x30, 0x00}}}}
	for _, sd := range []*SignedData{sample(), detached} {
		der, err := sd.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		// The parsed signer holds the received signed attributes.
		want := canonical(t, sd)
		back.SignerInfos[0].RawSignedAttrs = nil
		if got := canonical(t, back); got != want {
			t.Errorf("round trip changed the structure:\n got %s\nwant %s", got, want)
		}
	}
}

// indefinite rewrites the outermost value of der with the indefinite length
// form, as BER writers do.
func indefinite(t testing.TB, der []byte) []byte {
	t.Helper()
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(der, &v); err != nil {
		t.Fatal(err)
	}
	out := append([]byte{der[0], 0x80}, v.Bytes...)
	return append(out, 0, 0)
}

// TestParseBER: the BER form of a SignedData parses to the same structure.
func TestParseBER(t *testing.T) {
	der, err := sample().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Parse(indefinite(t, der))
	if err != nil {
		t.Fatal(err)
	}
	if canonical(t, a) != canonical(t, b) {
		t.Fatal("the BER form parses differently")
	}
}

// FuzzParse: no panics; whatever parses re-encodes (Marshal cannot fail on
// a parsed SignedData) to DER that parses to the same structure, up to the
// order of SET OF elements, and that is a fixed point.
func FuzzParse(f *testing.F) {
	der, err := sample().Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	detached := sample()
	detached.EContent = nil
	detached.SignerInfos[0].IssuerAndSerial = nil
	detached.SignerInfos[0].SubjectKeyID = []byte{1, 2, 3}
	detached.SignerInfos[0].UnsignedAttrs = []Attribute{{Type: OIDAttrSignatureTimeStamp, Values: [][]byte{{0x30, 0x00}}}}
	if der, err = detached.Marshal(); err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add(indefinite(f, der))
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		out, err := sd.Marshal()
		if err != nil {
			t.Fatalf("a parsed SignedData does not re-encode: %v", err)
		}
		sd2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded SignedData does not parse: %v", err)
		}
		if a, b := canonical(t, sd), canonical(t, sd2); a != b {
			t.Fatalf("structure changed by the round trip:\n%s\n%s", a, b)
		}
		out2, err := sd2.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second round differs")
		}
	})
}
