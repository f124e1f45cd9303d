package verify

// Time-stamps: the signature time-stamp (CAdES-T) and the CAdES-C
// time-stamp (escTimeStamp).

import (
	"bytes"
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/tsp"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// checkTimestamp verifies the signature time-stamp of si, if any: the token's
// CMS signature and the TSA's chain (purpose timestamping) at the validation
// time, and the imprint over the signature value. When decisive (CAdES-T
// required, or the signature claims long-term data the time-stamp anchors)
// a bad time-stamp fails the signature; otherwise it is a warning that says
// why it does not decide: the signature is then validated without it, as a
// CAdES-BES, at the validation time.
func checkTimestamp(ctx context.Context, st signerState, si *cms.SignerInfo, embedded []*certs.Certificate, opts Options, at time.Time, decisive bool) *Timestamp {
	var tokens [][]byte
	for _, a := range si.UnsignedAttrs {
		if a.Type.Equal(cms.OIDAttrSignatureTimeStamp) {
			tokens = append(tokens, a.Values...)
		}
	}
	if len(tokens) == 0 || opts.nested {
		if opts.Profile >= ProfileCAdEST {
			st.add("SIGNATURE_TIMESTAMP", Failed, "no signature time-stamp: not CAdES-T")
			st.outcome(TotalFailed, FormatFailure)
		}
		return nil
	}
	fail := func(ts *Timestamp, ind, sub, detail string) *Timestamp {
		ts.Indication, ts.SubIndication, ts.Detail = ind, sub, detail
		if decisive {
			st.add("SIGNATURE_TIMESTAMP", Failed, detail)
			st.outcome(ind, sub)
		} else {
			st.add("SIGNATURE_TIMESTAMP", Warning, detail+" (not decisive: no time-stamp is required, so the signature is validated without it, at the validation time)")
		}
		return ts
	}
	ts := &Timestamp{Kind: TimestampSignature}
	info, err := tsp.Parse(tokens[0])
	if err != nil {
		return fail(ts, TotalFailed, FormatFailure, err.Error())
	}
	ts.Time = info.GenTime
	if !bytes.Equal(info.Digest.Sum(si.Signature), info.Hash) {
		return fail(ts, TotalFailed, HashFailure, "the time-stamp is over another signature value")
	}
	// Depth 1: the token's own verification never looks for time-stamps.
	rep, err := Verify(ctx, tokens[0], Options{Roots: opts.Roots, Intermediates: append(append([]*certs.Certificate{}, opts.Intermediates...), embedded...),
		CRLs: opts.CRLs, Revocation: opts.Revocation, At: at, Purpose: certs.PurposeTimeStamping, nested: true})
	if err != nil {
		return fail(ts, TotalFailed, FormatFailure, err.Error())
	}
	if len(rep.Signers) == 1 && rep.Signers[0].Certificate != nil {
		ts.TSA = rep.Signers[0].Certificate.Subject
	}
	if rep.Indication != TotalPassed {
		detail := "the TSA's signature or certificate does not validate"
		for _, s := range rep.Signers {
			for _, c := range s.Checks {
				if c.Status == Failed {
					detail += ": " + c.Code + " " + c.Detail
					break
				}
			}
		}
		sub := rep.SubIndication
		if sub == "" && len(rep.Signers) == 1 {
			sub = rep.Signers[0].SubIndication
		}
		return fail(ts, rep.Indication, sub, detail)
	}
	ts.Indication = TotalPassed
	st.add("SIGNATURE_TIMESTAMP", Passed, fmt.Sprintf("time-stamped at %s by %s", ts.Time.UTC().Format(time.RFC3339), ts.TSA))
	return ts
}

// escImprintData returns what the CAdES-C time-stamp covers. ETSI TS 101 733
// V2.2.1 clause 6.3.5 (ESC time-stamp), as EN 319 122-2 clause 5.5.3 keeps
// it: the concatenation, in this order, of the OCTET STRING value of the
// SignerInfo's signature (its contents, without tag and length), the
// signature-time-stamp attribute(s), the complete-certificate-references
// attribute and the complete-revocation-references attribute; for each
// attribute, per NOTE 2 of that clause, the attrType and attrValues fields as
// encoded (tag, length and value of each), without the outer SEQUENCE of the
// Attribute. The attributes are taken as received (cms.Attribute.Raw).
func escImprintData(si *cms.SignerInfo) ([]byte, error) {
	out := append([]byte(nil), si.Signature...)
	inner := func(a *cms.Attribute) error {
		s := cryptobyte.String(a.Raw)
		var body cryptobyte.String
		if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !s.Empty() {
			return errors.New("an attribute covered by the CAdES-C time-stamp was not received as DER")
		}
		out = append(out, body...)
		return nil
	}
	for i := range si.UnsignedAttrs {
		if a := &si.UnsignedAttrs[i]; a.Type.Equal(cms.OIDAttrSignatureTimeStamp) {
			if err := inner(a); err != nil {
				return nil, err
			}
		}
	}
	for _, typ := range []asn1.ObjectIdentifier{OIDAttrCertificateRefs, OIDAttrRevocationRefs} {
		a, n := unsignedAttr(si, typ)
		if n != 1 {
			return nil, fmt.Errorf("the CAdES-C time-stamp needs one %v attribute, found %d", typ, n)
		}
		if err := inner(a); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkEscTimestamp verifies the CAdES-C time-stamp, when there is one: the
// imprint (escImprintData), the TSA's token and chain, and that it is not
// older than the signature time-stamp. A failure decides the verdict.
func checkEscTimestamp(ctx context.Context, st signerState, si *cms.SignerInfo, pool []*certs.Certificate, crls []*certs.CRL, sigTS *Timestamp, opts Options, at time.Time) *Timestamp {
	a, n := unsignedAttr(si, OIDAttrEscTimeStamp)
	if n == 0 || opts.nested {
		return nil
	}
	ts := &Timestamp{Kind: TimestampCAdESC}
	fail := func(ind, sub, detail string) *Timestamp {
		ts.Indication, ts.SubIndication, ts.Detail = ind, sub, detail
		st.add("CADES_C_TIMESTAMP", Failed, detail)
		st.outcome(ind, sub)
		return ts
	}
	if n > 1 || len(a.Values) < 1 {
		return fail(TotalFailed, FormatFailure, "malformed escTimeStamp attribute")
	}
	info, err := tsp.Parse(a.Values[0])
	if err != nil {
		return fail(TotalFailed, FormatFailure, err.Error())
	}
	ts.Time = info.GenTime
	data, err := escImprintData(si)
	if err != nil {
		return fail(TotalFailed, FormatFailure, err.Error())
	}
	if !bytes.Equal(info.Digest.Sum(data), info.Hash) {
		return fail(TotalFailed, HashFailure, "the CAdES-C time-stamp's imprint does not match the signature, its time-stamp and the references (ETSI TS 101 733 6.3.5)")
	}
	if sigTS != nil && sigTS.Indication == TotalPassed && ts.Time.Before(sigTS.Time) {
		return fail(TotalFailed, "TIMESTAMP_ORDER_FAILURE", "the CAdES-C time-stamp is older than the signature time-stamp")
	}
	rep, err := Verify(ctx, a.Values[0], Options{Roots: opts.Roots, Intermediates: append(append([]*certs.Certificate{}, opts.Intermediates...), pool...),
		CRLs: append(append([]*certs.CRL{}, opts.CRLs...), crls...), Revocation: opts.Revocation, At: at, Purpose: certs.PurposeTimeStamping, nested: true})
	if err != nil {
		return fail(TotalFailed, FormatFailure, err.Error())
	}
	if len(rep.Signers) == 1 && rep.Signers[0].Certificate != nil {
		ts.TSA = rep.Signers[0].Certificate.Subject
	}
	if rep.Indication != TotalPassed {
		sub := rep.SubIndication
		if sub == "" && len(rep.Signers) == 1 {
			sub = rep.Signers[0].SubIndication
		}
		return fail(rep.Indication, sub, "the CAdES-C time-stamp's TSA signature or certificate does not validate"+firstFailure(rep))
	}
	ts.Indication = TotalPassed
	st.add("CADES_C_TIMESTAMP", Passed, fmt.Sprintf("time-stamped at %s by %s", ts.Time.UTC().Format(time.RFC3339), ts.TSA))
	return ts
}

// firstFailure names the first failed check of a nested report.
func firstFailure(rep *Report) string {
	for _, s := range rep.Signers {
		for _, c := range s.Checks {
			if c.Status == Failed {
				return ": " + c.Code + " " + c.Detail
			}
		}
	}
	return ""
}
