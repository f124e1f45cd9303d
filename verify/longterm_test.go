package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// refuseOnline is a hard-fail revocation checker without network: every
// question is an error, so a chain passes only if the embedded values answer.
type refuseOnline struct{ asked int }

func (r *refuseOnline) CheckRevocation(context.Context, *certs.Certificate, *certs.Certificate, time.Time) (*certs.RevocationStatus, error) {
	r.asked++
	return nil, errors.New("offline: no network")
}

var oidSHA256 = []int{2, 16, 840, 1, 101, 3, 4, 2, 1}

// otherHash is OtherHashAndValue with SHA-256 (TS 101 733 6.2.1).
func otherHash(b *cryptobyte.Builder, der []byte) {
	d, _ := certs.DigestByOID(oidSHA256)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
		b.AddASN1OctetString(d.Sum(der))
	})
}

func mustBytes(t *testing.T, b *cryptobyte.Builder) []byte {
	t.Helper()
	out, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// xl1 turns a CAdES-T signature into CAdES-X Long Type 1: the token's own
// certificates are removed (the TSA's certificate is then only in
// certificate-values, as in CryptoPro's files), the values and references
// are added, and the CAdES-C time-stamp is taken from tsa over
// escData (an independent implementation of TS 101 733 6.3.5). refCerts are
// the certificates the references name; mutate, when set, changes the
// signature before it is stamped.
func xl1(t *testing.T, sig []byte, tsa string, vals []*certs.Certificate, refCerts []*certs.Certificate, crl *certs.CRL, corruptEsc bool) []byte {
	t.Helper()
	sd, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	si := &sd.SignerInfos[0]
	for i, a := range si.UnsignedAttrs {
		if a.Type.Equal(cms.OIDAttrSignatureTimeStamp) {
			tok, err := cms.Parse(a.Values[0])
			if err != nil {
				t.Fatal(err)
			}
			tok.Certificates = nil
			if si.UnsignedAttrs[i].Values[0], err = tok.Marshal(); err != nil {
				t.Fatal(err)
			}
		}
	}
	var cv, cr, rv, rr cryptobyte.Builder
	cv.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range vals {
			b.AddBytes(c.Raw)
		}
	})
	cr.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range refCerts {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { otherHash(b, c.Raw) })
		}
	})
	rv.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(crl.Raw) })
		})
	})
	rr.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { otherHash(b, crl.Raw) })
					})
				})
			})
		})
	})
	certRefs := cms.Attribute{Type: verify.OIDAttrCertificateRefs, Values: [][]byte{mustBytes(t, &cr)}}
	revRefs := cms.Attribute{Type: verify.OIDAttrRevocationRefs, Values: [][]byte{mustBytes(t, &rr)}}
	si.UnsignedAttrs = append(si.UnsignedAttrs,
		cms.Attribute{Type: verify.OIDAttrCertValues, Values: [][]byte{mustBytes(t, &cv)}},
		cms.Attribute{Type: verify.OIDAttrRevocationVals, Values: [][]byte{mustBytes(t, &rv)}}, certRefs, revRefs)

	// escTimeStamp imprint: signature octets, then for the signature
	// time-stamp, certificate refs and revocation refs attributes their
	// attrType and attrValues (DER, no outer SEQUENCE).
	data := append([]byte(nil), si.Signature...)
	typeAndValues := func(a cms.Attribute) {
		var b cryptobyte.Builder
		b.AddASN1ObjectIdentifier(a.Type)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, v := range a.Values {
				b.AddBytes(v)
			}
		})
		data = append(data, mustBytes(t, &b)...)
	}
	for _, a := range si.UnsignedAttrs {
		if a.Type.Equal(cms.OIDAttrSignatureTimeStamp) {
			typeAndValues(a)
		}
	}
	typeAndValues(certRefs)
	typeAndValues(revRefs)
	if corruptEsc {
		data[0] ^= 1
	}
	d, _ := certs.DigestByOID(oidSHA256)
	tok, err := (&tsp.Client{URL: tsa}).Timestamp(context.Background(), d, d.Sum(data))
	if err != nil {
		t.Fatal(err)
	}
	si.UnsignedAttrs = append(si.UnsignedAttrs, cms.Attribute{Type: verify.OIDAttrEscTimeStamp, Values: [][]byte{tok}})
	out, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestXL1: CAdES-X Long Type 1 made from kep's CAdES-T, a loopback TSA and a
// CRL of the test PKI, verified offline with a hard-fail revocation checker.
func TestXL1(t *testing.T) {
	p := testpki.New(t)
	ctx := context.Background()
	_, crl := p.CRL(t) // issued before the signatures: valid at their time-stamps and for 30 days
	tsa := p.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	roots := []*certs.Certificate{p.Root.Cert}
	content := []byte("Договор поставки № 12")
	id := p.Leaf(t, testpki.TC26256A, "X-L1 signer")
	sig, err := sign.Sign(ctx, bytes.NewReader(content), id.Signer, id.Cert, sign.Options{Timestamper: &tsp.Client{URL: tsa.URL}})
	if err != nil {
		t.Fatal(err)
	}
	tsaCert := tsa.Identity.Cert
	verifyXL := func(name string, sig []byte, at time.Time) (*verify.Report, *refuseOnline) {
		off := &refuseOnline{}
		rep := verifyOne(t, sig, verify.Options{Roots: roots, Content: bytes.NewReader(content), Revocation: off, At: at})
		return rep, off
	}

	good := xl1(t, sig, tsa.URL, []*certs.Certificate{tsaCert, p.Root.Cert}, []*certs.Certificate{tsaCert, p.Root.Cert}, crl, false)
	rep, off := verifyXL("valid", good, time.Time{})
	s := rep.Signers[0]
	if rep.Indication != verify.TotalPassed || s.Level != verify.LevelXL1 || len(s.Timestamps) != 2 || off.asked != 0 ||
		!hasCheck(s, "SIGNATURE_TIMESTAMP", verify.Passed, "") || !hasCheck(s, "CADES_C_TIMESTAMP", verify.Passed, "") ||
		!hasCheck(s, "CERTIFICATE_REFS", verify.Passed, "") || !hasCheck(s, "REVOCATION_REFS", verify.Passed, "") {
		t.Fatalf("valid X-L1: %s/%s level %q, online asked %d, %+v", rep.Indication, s.SubIndication, s.Level, off.asked, s.Checks)
	}
	if s.Timestamps[0].Kind != verify.TimestampSignature || s.Timestamps[1].Kind != verify.TimestampCAdESC || s.Timestamps[1].Time.Before(s.Timestamps[0].Time) {
		t.Errorf("time-stamps: %+v", s.Timestamps)
	}
	// The X-Long profile: the X-L1 passes it, its CAdES-T original does not.
	for _, tc := range []struct {
		name string
		sig  []byte
		ind  string
		lvl  string
	}{{"X-L1", good, verify.TotalPassed, verify.Passed}, {"CAdES-T", sig, verify.Indeterminate, verify.Failed}} {
		// (no revocation checker: the CAdES-T then fails on its level alone)
		rep := verifyOne(t, tc.sig, verify.Options{Roots: roots, Content: bytes.NewReader(content), Profile: verify.ProfileXL})
		if s := rep.Signers[0]; rep.Indication != tc.ind || !hasCheck(s, "LEVEL", tc.lvl, "") ||
			(tc.ind != verify.TotalPassed && s.SubIndication != verify.SigConstraintsFailure) {
			t.Errorf("ProfileXL, %s: %s/%s %+v", tc.name, rep.Indication, s.SubIndication, s.Checks)
		}
	}

	// Without certificate-values the TSA's certificate is nowhere: the same
	// stripped token fails, so the pass above came from the values.
	plain, err := cms.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	var kept []cms.Attribute
	for _, a := range plain.SignerInfos[0].UnsignedAttrs {
		if a.Type.Equal(cms.OIDAttrSignatureTimeStamp) {
			kept = append(kept, a)
		}
	}
	plain.SignerInfos[0].UnsignedAttrs = kept
	stripped, err := plain.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rep, _ = verifyXL("stripped CAdES-T", stripped, time.Time{})
	if s := rep.Signers[0]; hasCheck(s, "SIGNATURE_TIMESTAMP", verify.Passed, "") || s.Level != verify.LevelBES {
		t.Errorf("TSA certificate nowhere: time-stamp passed? %s level %s %+v", rep.Indication, s.Level, s.Checks)
	}

	// A CAdES-C time-stamp over other data fails the signature.
	bad := xl1(t, sig, tsa.URL, []*certs.Certificate{tsaCert, p.Root.Cert}, []*certs.Certificate{tsaCert, p.Root.Cert}, crl, true)
	rep, _ = verifyXL("corrupted escTimeStamp", bad, time.Time{})
	if s := rep.Signers[0]; rep.Indication == verify.TotalPassed || !hasCheck(s, "CADES_C_TIMESTAMP", verify.Failed, "imprint") || s.Level == verify.LevelXL1 {
		t.Errorf("corrupted escTimeStamp: %s/%s level %s", rep.Indication, s.SubIndication, s.Level)
	}

	// References naming a certificate that is not among the values.
	other := p.Leaf(t, testpki.CryptoProA, "not in the values")
	mism := xl1(t, sig, tsa.URL, []*certs.Certificate{tsaCert, p.Root.Cert}, []*certs.Certificate{tsaCert, other.Cert}, crl, false)
	rep, _ = verifyXL("refs mismatch", mism, time.Time{})
	if s := rep.Signers[0]; rep.Indication == verify.TotalPassed || !hasCheck(s, "CERTIFICATE_REFS", verify.Failed, "matches no certificate") {
		t.Errorf("references not matching: %s/%s %+v", rep.Indication, s.SubIndication, s.Checks)
	}

	// A signer certificate that expires an hour after signing, verified a
	// day later: the signature time-stamp proves it existed in time.
	now := time.Now()
	key, err := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := certs.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(4343), Subject: pkix.Name{CommonName: "short-lived X-L1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}, p.Root.Cert.Certificate, key.Public(), p.Root.Signer)
	if err != nil {
		t.Fatal(err)
	}
	short, err := certs.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ssig, err := sign.Sign(ctx, bytes.NewReader(content), key, short, sign.Options{Timestamper: &tsp.Client{URL: tsa.URL}})
	if err != nil {
		t.Fatal(err)
	}
	expired := xl1(t, ssig, tsa.URL, []*certs.Certificate{tsaCert, short}, []*certs.Certificate{tsaCert}, crl, false)
	rep, off = verifyXL("expired signer", expired, now.Add(24*time.Hour))
	if s := rep.Signers[0]; rep.Indication != verify.TotalPassed || s.Level != verify.LevelXL1 || off.asked != 0 {
		t.Errorf("expired signer with X-L1: %s/%s level %s asked %d %+v", rep.Indication, s.SubIndication, s.Level, off.asked, s.Checks)
	}
	// Control: the same file verified after the CRL's nextUpdate (31 days)
	// has no revocation evidence left; offline it cannot pass.
	rep, _ = verifyXL("expired, CRL stale", expired, now.Add(31*24*time.Hour))
	if rep.Indication == verify.TotalPassed {
		t.Errorf("stale CRL, offline: %s", rep.Indication)
	}
}
