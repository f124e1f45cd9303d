package verify_test

import (
	"context"
	"crypto/sha1"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// essV1 is a SigningCertificate (RFC 2634) value with one ESSCertID over hash.
func essV1(t *testing.T, hash []byte, id *testpki.Identity) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(hash)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(id.Cert.RawIssuer) })
					})
					b.AddASN1BigInt(id.Cert.SerialNumber)
				})
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// signWithAttrs makes an attached CMS signature by id whose signed attributes
// are the usual three plus extra, as a producer such as CryptoPro's TSA does.
func signWithAttrs(t *testing.T, id *testpki.Identity, content []byte, extra ...cms.Attribute) []byte {
	t.Helper()
	d := certs.Streebog256
	sd := &cms.SignedData{Version: 1, DigestAlgorithms: []pkix.AlgorithmIdentifier{{Algorithm: d.OID}},
		EContentType: cms.OIDData, EContent: content, Certificates: [][]byte{id.Cert.Raw}}
	si := cms.SignerInfo{Version: 1, IssuerAndSerial: &cms.IssuerAndSerial{RawIssuer: id.Cert.RawIssuer, Serial: id.Cert.SerialNumber},
		DigestAlgorithm: pkix.AlgorithmIdentifier{Algorithm: d.OID}, SignatureAlgorithm: pkix.AlgorithmIdentifier{Algorithm: certs.OIDGOST2012256Sig}}
	si.SignedAttrs = append([]cms.Attribute{
		{Type: cms.OIDAttrContentType, Values: [][]byte{cms.MarshalOID(cms.OIDData)}},
		{Type: cms.OIDAttrSigningTime, Values: [][]byte{cms.MarshalTime(time.Now().Add(-time.Minute))}},
		{Type: cms.OIDAttrMessageDigest, Values: [][]byte{cms.MarshalOctets(d.Sum(content))}},
	}, extra...)
	set, err := cms.MarshalAttributes(si.SignedAttrs)
	if err != nil {
		t.Fatal(err)
	}
	if si.Signature, err = certs.SignDigest(id.Signer, nil, d, d.Sum(set)); err != nil {
		t.Fatal(err)
	}
	sd.SignerInfos = []cms.SignerInfo{si}
	der, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestBothESSAttributes: signingCertificate (SHA-1) and signingCertificateV2
// are two attributes; each present is checked, both must name the signer.
func TestBothESSAttributes(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "TSA-like signer")
	other := p.Leaf(t, testpki.CryptoProA, "someone else")
	content := []byte("time-stamped content")
	s1 := sha1.Sum(id.Cert.Raw)
	s1other := sha1.Sum(other.Cert.Raw)
	v2, err := cms.MarshalSigningCertificateV2(cms.ESSCertIDv2{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: certs.Streebog256.OID},
		CertHash: certs.Streebog256.Sum(id.Cert.Raw), IssuerSerial: &cms.IssuerAndSerial{RawIssuer: id.Cert.RawIssuer, Serial: id.Cert.SerialNumber}})
	if err != nil {
		t.Fatal(err)
	}
	v2other, err := cms.MarshalSigningCertificateV2(cms.ESSCertIDv2{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: certs.Streebog256.OID},
		CertHash: certs.Streebog256.Sum(other.Cert.Raw)})
	if err != nil {
		t.Fatal(err)
	}
	attrV1 := cms.Attribute{Type: cms.OIDAttrSigningCertificate, Values: [][]byte{essV1(t, s1[:], id)}}
	attrV1other := cms.Attribute{Type: cms.OIDAttrSigningCertificate, Values: [][]byte{essV1(t, s1other[:], id)}}
	attrV2 := cms.Attribute{Type: cms.OIDAttrSigningCertV2, Values: [][]byte{v2}}
	attrV2other := cms.Attribute{Type: cms.OIDAttrSigningCertV2, Values: [][]byte{v2other}}
	for _, c := range []struct {
		name        string
		attrs       []cms.Attribute
		ind, sub    string
		passed      int    // SIGNING_CERTIFICATE_REF checks passed
		failureText string // in a failed SIGNING_CERTIFICATE_REF check
	}{
		{"both, both right", []cms.Attribute{attrV1, attrV2}, verify.TotalPassed, "", 2, ""},
		{"v1 only", []cms.Attribute{attrV1}, verify.TotalPassed, "", 1, ""},
		{"v2 only", []cms.Attribute{attrV2}, verify.TotalPassed, "", 1, ""},
		{"both, v1 names another certificate", []cms.Attribute{attrV1other, attrV2}, verify.Indeterminate, verify.NoSigningCertificateFound, 1, "signingCertificate: the signingCertificate hash does not match"},
		{"both, v2 names another certificate", []cms.Attribute{attrV1, attrV2other}, verify.Indeterminate, verify.NoSigningCertificateFound, 1, "signingCertificateV2: the signingCertificate hash does not match"},
		{"v1 twice", []cms.Attribute{attrV1, attrV1, attrV2}, verify.TotalFailed, verify.FormatFailure, 1, "signingCertificate attribute occurs more than once"},
	} {
		sig := signWithAttrs(t, id, content, c.attrs...)
		rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: []*certs.Certificate{p.Root.Cert}})
		if err != nil {
			t.Fatal(err)
		}
		s := rep.Signers[0]
		passed, failed := 0, ""
		for _, ch := range s.Checks {
			if ch.Code == "SIGNING_CERTIFICATE_REF" {
				switch ch.Status {
				case verify.Passed:
					passed++
				case verify.Failed:
					failed += ch.Detail + ";"
				}
			}
		}
		if s.Indication != c.ind || s.SubIndication != c.sub || passed != c.passed || !strings.Contains(failed, c.failureText) || (c.failureText == "") != (failed == "") {
			t.Errorf("%s: %s/%s, %d passed, failures %q; want %s/%s, %d passed, %q\n%s", c.name, s.Indication, s.SubIndication, passed, failed, c.ind, c.sub, c.passed, c.failureText, rep.Summary("en"))
		}
	}
}

// TestSignerInfoVersion: a SignerInfo's version must match its signer
// identifier (RFC 5652 5.3: 1 with issuerAndSerialNumber, 3 with
// subjectKeyIdentifier); a mismatch is a FORMAT warning, a match none.
func TestSignerInfoVersion(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "version")
	der, err := sign.Sign(context.Background(), strings.NewReader("content"), id.Signer, id.Cert, sign.Options{Attached: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ski     bool
		version int
		warn    bool
	}{{false, 1, false}, {false, 3, true}, {true, 3, false}, {true, 1, true}} {
		sd, err := cms.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		si := &sd.SignerInfos[0]
		si.Version = c.version
		if c.ski {
			si.IssuerAndSerial, si.SubjectKeyID = nil, []byte{1, 2, 3, 4}
		}
		out, err := sd.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(context.Background(), out, verify.Options{Roots: []*certs.Certificate{p.Root.Cert}})
		if err != nil || len(rep.Signers) != 1 {
			t.Fatalf("%+v: %v", c, err)
		}
		warned := false
		for _, ch := range rep.Signers[0].Checks {
			if ch.Code == "FORMAT" && ch.Status == verify.Warning && strings.Contains(ch.Detail, "version") {
				warned = true
			}
		}
		if warned != c.warn {
			t.Errorf("subjectKeyIdentifier %v, version %d: version warning %v, want %v\n%s", c.ski, c.version, warned, c.warn, rep.Summary("en"))
		}
	}
}
