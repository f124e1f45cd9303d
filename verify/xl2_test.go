package verify_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// skewed is a Timestamper that changes the first digest it is asked to
// stamp: the token is then over other data.
type skewed struct {
	ts   sign.Timestamper
	done bool
}

func (s *skewed) Timestamp(ctx context.Context, d *certs.Digest, digest []byte) ([]byte, error) {
	if !s.done {
		s.done = true
		digest = append([]byte(nil), digest...)
		digest[0] ^= 1
	}
	return s.ts.Timestamp(ctx, d, digest)
}

// TestXL2AndContentTimestamp: a content time-stamp (kep's sign
// ContentTimestamp) and CAdES-X Long Type 2 — the CAdES-C time-stamp of an
// X-L1 replaced by a time-stamp over the references (TS 101 733 6.3.6,
// computed here independently: attrType and attrValues of the certificate
// references, then of the revocation references). Each time-stamp is
// checked over exactly its data: references in the other order, a content
// time-stamp over other content and changed content fail.
func TestXL2AndContentTimestamp(t *testing.T) {
	p := testpki.New(t)
	ctx := context.Background()
	_, crl := p.CRL(t)
	tsa := p.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	ts := &tsp.Client{URL: tsa.URL}
	roots := []*certs.Certificate{p.Root.Cert}
	content := []byte("Реестр отгрузок, март")
	id := p.Leaf(t, testpki.TC26256A, "X-L2 signer")
	sig, err := sign.Sign(ctx, bytes.NewReader(content), id.Signer, id.Cert, sign.Options{Timestamper: ts, ContentTimestamp: true})
	if err != nil {
		t.Fatal(err)
	}
	vals := []*certs.Certificate{tsa.Identity.Cert, p.Root.Cert}
	x1 := xl1(t, sig, tsa.URL, vals, vals, crl, false)

	toXL2 := func(swap bool) []byte {
		sd, err := cms.Parse(x1)
		if err != nil {
			t.Fatal(err)
		}
		si := &sd.SignerInfos[0]
		var kept []cms.Attribute
		var certRefs, revRefs cms.Attribute
		for _, a := range si.UnsignedAttrs {
			switch {
			case a.Type.Equal(verify.OIDAttrEscTimeStamp):
				continue
			case a.Type.Equal(verify.OIDAttrCertificateRefs):
				certRefs = a
			case a.Type.Equal(verify.OIDAttrRevocationRefs):
				revRefs = a
			}
			kept = append(kept, a)
		}
		order := []cms.Attribute{certRefs, revRefs}
		if swap {
			order = []cms.Attribute{revRefs, certRefs}
		}
		var data []byte
		for _, a := range order {
			var b cryptobyte.Builder
			b.AddASN1ObjectIdentifier(a.Type)
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
				for _, v := range a.Values {
					b.AddBytes(v)
				}
			})
			data = append(data, mustBytes(t, &b)...)
		}
		d, _ := certs.DigestByOID(oidSHA256)
		tok, err := ts.Timestamp(ctx, d, d.Sum(data))
		if err != nil {
			t.Fatal(err)
		}
		si.UnsignedAttrs = append(kept, cms.Attribute{Type: verify.OIDAttrCertCRLTimestamp, Values: [][]byte{tok}})
		out, err := sd.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	check := func(sig []byte, content []byte) (*verify.Report, *refuseOnline) {
		off := &refuseOnline{}
		return verifyOne(t, sig, verify.Options{Roots: roots, Content: bytes.NewReader(content), Revocation: off}), off
	}

	rep, off := check(toXL2(false), content)
	s := rep.Signers[0]
	if rep.Indication != verify.TotalPassed || s.Level != verify.LevelXL2 || off.asked != 0 ||
		!hasCheck(s, "REFS_TIMESTAMP", verify.Passed, "") || !hasCheck(s, "CONTENT_TIMESTAMP", verify.Passed, "") ||
		!hasCheck(s, "TIMESTAMP_ORDER", verify.Passed, "") {
		t.Fatalf("X-L2 with a content time-stamp: %s/%s level %s asked %d %+v", rep.Indication, s.SubIndication, s.Level, off.asked, s.Checks)
	}
	if sum := rep.Summary("ru"); !strings.Contains(sum, "Уровень подписи: X-L2") || !strings.Contains(sum, "Штамп времени (certcrl)") {
		t.Errorf("the summary does not show the level and the time-stamps:\n%s", sum)
	}
	var kinds []string
	for _, x := range s.Timestamps {
		kinds = append(kinds, x.Kind)
	}
	if len(kinds) != 3 || kinds[0] != verify.TimestampContent || kinds[1] != verify.TimestampSignature || kinds[2] != verify.TimestampRefs {
		t.Errorf("time-stamps %v", kinds)
	}

	// The references concatenated the other way round: not what 6.3.6 says.
	rep, _ = check(toXL2(true), content)
	if s := rep.Signers[0]; rep.Indication == verify.TotalPassed || !hasCheck(s, "REFS_TIMESTAMP", verify.Failed, "imprint") || s.Level == verify.LevelXL2 {
		t.Errorf("swapped references: %s level %s %+v", rep.Indication, s.Level, s.Checks)
	}

	// Changed content: the message digest and the content time-stamp fail.
	rep, _ = check(x1, []byte("Реестр отгрузок, апрель"))
	if s := rep.Signers[0]; rep.Indication != verify.TotalFailed || !hasCheck(s, "CONTENT_TIMESTAMP", verify.Failed, "other content") {
		t.Errorf("changed content: %s %+v", rep.Indication, s.Checks)
	}

	// Revocation values that cover none of the certificates (another CA's
	// CRL): hard-fail online refused gives no pass; without an online
	// checker (kep verify --revocation off) the certificates stay unchecked,
	// warnings only, as without values.
	_, foreign := testpki.New(t).CRL(t)
	uncovered := xl1(t, sig, tsa.URL, vals, vals, foreign, false)
	rep, _ = check(uncovered, content)
	if rep.Indication == verify.TotalPassed {
		t.Errorf("values covering nothing, online refused: %s", rep.Indication)
	}
	rep = verifyOne(t, uncovered, verify.Options{Roots: roots, Content: bytes.NewReader(content)})
	if rep.Indication != verify.TotalPassed || rep.Signers[0].Chain == nil {
		t.Errorf("values covering nothing, no online checker: %s/%s %+v", rep.Indication, rep.Signers[0].SubIndication, rep.Signers[0].Checks)
	} else {
		warned := false
		for _, c := range rep.Signers[0].Chain.Checks {
			warned = warned || c.Code == "REVOCATION" && c.Status == verify.Warning && strings.Contains(c.Detail, "no online check was asked for")
		}
		if !warned {
			t.Errorf("no warning that revocation was not checked: %+v", rep.Signers[0].Chain.Checks)
		}
	}

	// A content time-stamp over another digest fails the signature even
	// though everything else is right.
	bad, err := sign.Sign(ctx, bytes.NewReader(content), id.Signer, id.Cert, sign.Options{Timestamper: &skewed{ts: ts}, ContentTimestamp: true})
	if err != nil {
		t.Fatal(err)
	}
	rep, _ = check(bad, content)
	if s := rep.Signers[0]; rep.Indication != verify.TotalFailed || s.SubIndication != verify.HashFailure || !hasCheck(s, "CONTENT_TIMESTAMP", verify.Failed, "other content") ||
		!hasCheck(s, "MESSAGE_DIGEST", verify.Passed, "") {
		t.Errorf("content time-stamp over other data: %s/%s %+v", rep.Indication, s.SubIndication, s.Checks)
	}
}
