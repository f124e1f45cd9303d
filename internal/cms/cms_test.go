package cms

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
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
	utc := MarshalTime(time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC))
	gen := MarshalTime(time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC))
	if utc[0] != 0x17 || gen[0] != 0x18 {
		t.Fatalf("UTCTime until 2049, GeneralizedTime after: %x %x", utc[0], gen[0])
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

// FuzzParse: no panics; whatever parses re-encodes to DER that parses to the
// same structure (a fixed point after one round).
func FuzzParse(f *testing.F) {
	der, _ := sample().Marshal()
	f.Add(der)
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := Parse(data)
		if err != nil {
			return
		}
		out, err := sd.Marshal()
		if err != nil {
			return // e.g. a SignerInfo whose identifier cannot be written back
		}
		sd2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded SignedData does not parse: %v", err)
		}
		out2, err := sd2.Marshal()
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("second round differs")
		}
	})
}
