package verify

// Time-stamps: the content time-stamp (id-aa-ets-contentTimestamp, a signed
// attribute), the signature time-stamp (CAdES-T), the CAdES-C time-stamp
// (id-aa-ets-escTimeStamp, X-L Type 1) and the time-stamped certificates and
// CRLs references (id-aa-ets-certCRLTimestamp, X-L Type 2).
//
// Each token's imprint is checked over exactly what ETSI TS 101 733 V2.2.1
// says it covers, its CMS signature and its TSA's chain (purpose
// timestamping) at the validation time or, when that fails for a reason a
// proof of existence cures (the TSA's certificate expired or was revoked
// since, its revocation data is no longer fresh), at the time of a later
// valid time-stamp that covers the token (EN 319 102-1 past signature
// validation): the CAdES-C time-stamp covers the signature time-stamp, the
// signature time-stamp covers the signed attributes and so the content
// time-stamp. The times must come in order (TIMESTAMP_ORDER): content ≤
// signature ≤ CAdES-C and certCRL time-stamps.
//
// Check codes: CONTENT_TIMESTAMP, SIGNATURE_TIMESTAMP, CADES_C_TIMESTAMP,
// REFS_TIMESTAMP, TIMESTAMP_ORDER.

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

// Attribute types of the other time-stamps (ETSI TS 101 733 annex A).
var (
	OIDAttrContentTimestamp = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 20}
	OIDAttrCertCRLTimestamp = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 26}
)

// TimestampOrderFailure: the time-stamps are not in the order the standard
// requires (EN 319 102-1, INDETERMINATE).
const TimestampOrderFailure = "TIMESTAMP_ORDER_FAILURE"

// passed returns ts when it is a valid time-stamp, else nil.
func passed(ts *Timestamp) *Timestamp {
	if ts != nil && ts.Indication == TotalPassed {
		return ts
	}
	return nil
}

// poeCurable lists the sub-indications of a TSA's chain that a later proof
// of existence can cure.
func poeCurable(sub string) bool {
	switch sub {
	case certs.SubOutOfBoundsNoPOE, certs.SubOutOfBoundsNotRevoked, certs.SubRevokedNoPOE, certs.SubCryptoConstraintsFailureNoPOE,
		certs.SubTryLater, certs.SubRevocationOutOfBoundsNoPOE:
		return true
	}
	return false
}

// tokenResult is the outcome of a token's CMS signature and TSA chain.
type tokenResult struct {
	tsa, ind, sub, detail string
}

// verifyToken verifies a time-stamp token's signature and its TSA's chain at
// at, and, when that fails for a POE-curable reason and poe is a valid later
// time-stamp covering the token, at poe's time.
func verifyToken(ctx context.Context, token []byte, pool []*certs.Certificate, opts Options, at time.Time, poe *Timestamp) tokenResult {
	run := func(when time.Time) tokenResult {
		// Depth 1: the token's own verification never looks for time-stamps.
		rep, err := Verify(ctx, token, Options{Roots: opts.Roots, Intermediates: append(append([]*certs.Certificate{}, opts.Intermediates...), pool...),
			CRLs: opts.CRLs, Revocation: opts.Revocation, At: when, Purpose: certs.PurposeTimeStamping, nested: true})
		if err != nil {
			return tokenResult{ind: TotalFailed, sub: FormatFailure, detail: err.Error()}
		}
		res := tokenResult{ind: rep.Indication, sub: rep.SubIndication}
		if len(rep.Signers) == 1 && rep.Signers[0].Certificate != nil {
			res.tsa = rep.Signers[0].Certificate.Subject
		}
		if res.sub == "" && len(rep.Signers) == 1 {
			res.sub = rep.Signers[0].SubIndication
		}
		if rep.Indication != TotalPassed {
			res.detail = "the TSA's signature or certificate does not validate" + firstFailure(rep)
		}
		return res
	}
	res := run(at)
	if res.ind != TotalPassed && poe != nil && poe.Time.Before(at) && poeCurable(res.sub) {
		if past := run(poe.Time); past.ind == TotalPassed {
			past.detail = fmt.Sprintf("the TSA's chain validated at %s, the time of the %s time-stamp that covers this one (now %s/%s)",
				poe.Time.UTC().Format(time.RFC3339), poe.Kind, res.ind, res.sub)
			return past
		}
	}
	return res
}

// checkTimestamp verifies the signature time-stamp of si, if any: the imprint
// over the signature value (TS 101 733 6.1.1: the hash of the signature
// field's value), the token's signature and the TSA's chain (verifyToken,
// poe being the CAdES-C time-stamp that covers it). When decisive (CAdES-T
// required, or the signature claims long-term data the time-stamp anchors)
// a bad time-stamp fails the signature; otherwise it is a warning that says
// why it does not decide: the signature is then validated without it, as a
// CAdES-BES, at the validation time.
func checkTimestamp(ctx context.Context, st signerState, si *cms.SignerInfo, embedded []*certs.Certificate, opts Options, at time.Time, decisive bool, poe *Timestamp) *Timestamp {
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
	res := verifyToken(ctx, tokens[0], embedded, opts, at, poe)
	ts.TSA = res.tsa
	if res.ind != TotalPassed {
		return fail(ts, res.ind, res.sub, res.detail)
	}
	ts.Indication, ts.Detail = TotalPassed, res.detail
	msg := fmt.Sprintf("time-stamped at %s by %s", ts.Time.UTC().Format(time.RFC3339), ts.TSA)
	if res.detail != "" {
		msg += "; " + res.detail
	}
	st.add("SIGNATURE_TIMESTAMP", Passed, msg)
	return ts
}

// checkUnsignedTimestamp verifies a time-stamp kept in an unsigned
// attribute of type typ whose imprint covers data (built by imprint), under
// check code; a failure decides the verdict (the signature claims the
// long-term form).
func checkUnsignedTimestamp(ctx context.Context, st signerState, si *cms.SignerInfo, typ asn1.ObjectIdentifier, kind, code, what string,
	imprint func(*cms.SignerInfo) ([]byte, error), pool []*certs.Certificate, opts Options, at time.Time) *Timestamp {
	a, n := unsignedAttr(si, typ)
	if n == 0 || opts.nested {
		return nil
	}
	ts := &Timestamp{Kind: kind}
	fail := func(ind, sub, detail string) *Timestamp {
		ts.Indication, ts.SubIndication, ts.Detail = ind, sub, detail
		st.add(code, Failed, detail)
		st.outcome(ind, sub)
		return ts
	}
	if n > 1 || len(a.Values) != 1 {
		return fail(TotalFailed, FormatFailure, "malformed "+what+" attribute (several attributes or values)")
	}
	info, err := tsp.Parse(a.Values[0])
	if err != nil {
		return fail(TotalFailed, FormatFailure, err.Error())
	}
	ts.Time = info.GenTime
	data, err := imprint(si)
	if err != nil {
		return fail(TotalFailed, FormatFailure, err.Error())
	}
	if !bytes.Equal(info.Digest.Sum(data), info.Hash) {
		return fail(TotalFailed, HashFailure, "the "+what+"'s imprint does not match the data it must cover (ETSI TS 101 733 V2.2.1 "+map[string]string{TimestampCAdESC: "6.3.5", TimestampRefs: "6.3.6"}[kind]+")")
	}
	res := verifyToken(ctx, a.Values[0], pool, opts, at, nil)
	ts.TSA = res.tsa
	if res.ind != TotalPassed {
		return fail(res.ind, res.sub, "the "+what+"'s TSA signature or certificate does not validate: "+res.detail)
	}
	ts.Indication = TotalPassed
	st.add(code, Passed, fmt.Sprintf("time-stamped at %s by %s", ts.Time.UTC().Format(time.RFC3339), ts.TSA))
	return ts
}

// checkEscTimestamp verifies the CAdES-C time-stamp (X-L Type 1), when
// there is one: imprint over escImprintData.
func checkEscTimestamp(ctx context.Context, st signerState, si *cms.SignerInfo, pool []*certs.Certificate, opts Options, at time.Time) *Timestamp {
	return checkUnsignedTimestamp(ctx, st, si, OIDAttrEscTimeStamp, TimestampCAdESC, "CADES_C_TIMESTAMP", "CAdES-C time-stamp", escImprintData, pool, opts, at)
}

// checkRefsTimestamp verifies the time-stamped certificates and CRLs
// references (X-L Type 2), when there is one: imprint over refsImprintData.
func checkRefsTimestamp(ctx context.Context, st signerState, si *cms.SignerInfo, pool []*certs.Certificate, opts Options, at time.Time) *Timestamp {
	return checkUnsignedTimestamp(ctx, st, si, OIDAttrCertCRLTimestamp, TimestampRefs, "REFS_TIMESTAMP", "certCRL time-stamp", refsImprintData, pool, opts, at)
}

// checkContentTimestamp verifies the content time-stamp, a signed attribute
// (TS 101 733 5.11.4): its imprint is the hash of the eContent's value —
// for a detached signature, of the content — with the token's algorithm
// (digests has the content hashed with every algorithm the signature's
// time-stamps and signers use). poe, the signature time-stamp, covers it.
// A failure decides the verdict: the signer claimed the content existed then.
func checkContentTimestamp(ctx context.Context, st signerState, si *cms.SignerInfo, digests map[string][]byte, pool []*certs.Certificate, opts Options, at time.Time, poe *Timestamp) *Timestamp {
	vals, n := si.Attr(OIDAttrContentTimestamp)
	if n == 0 || opts.nested {
		return nil
	}
	ts := &Timestamp{Kind: TimestampContent}
	fail := func(ind, sub, detail string) *Timestamp {
		ts.Indication, ts.SubIndication, ts.Detail = ind, sub, detail
		st.add("CONTENT_TIMESTAMP", Failed, detail)
		st.outcome(ind, sub)
		return ts
	}
	if n > 1 || len(vals) != 1 {
		return fail(TotalFailed, FormatFailure, "malformed content time-stamp attribute (several attributes or values)")
	}
	info, err := tsp.Parse(vals[0])
	if err != nil {
		return fail(TotalFailed, FormatFailure, err.Error())
	}
	ts.Time = info.GenTime
	sum, ok := digests[info.Digest.Name]
	switch {
	case digests == nil || !ok:
		ts.Indication, ts.SubIndication, ts.Detail = Indeterminate, SignedDataNotFound, "the signed content is missing"
		st.add("CONTENT_TIMESTAMP", NotChecked, ts.Detail)
		return ts
	case !bytes.Equal(sum, info.Hash):
		return fail(TotalFailed, HashFailure, "the content time-stamp is over other content (ETSI TS 101 733 5.11.4)")
	}
	res := verifyToken(ctx, vals[0], pool, opts, at, poe)
	ts.TSA = res.tsa
	if res.ind != TotalPassed {
		return fail(res.ind, res.sub, "the content time-stamp's TSA signature or certificate does not validate: "+res.detail)
	}
	ts.Indication = TotalPassed
	st.add("CONTENT_TIMESTAMP", Passed, fmt.Sprintf("the content existed at %s (time-stamped by %s)", ts.Time.UTC().Format(time.RFC3339), ts.TSA))
	return ts
}

// contentTimestampDigests returns the digest algorithms of the content
// time-stamps of every signer, so that the content is hashed once for all.
func contentTimestampDigests(sd *cms.SignedData, needed map[string]*certs.Digest) {
	for i := range sd.SignerInfos {
		vals, n := sd.SignerInfos[i].Attr(OIDAttrContentTimestamp)
		if n != 1 || len(vals) != 1 {
			continue
		}
		if info, err := tsp.Parse(vals[0]); err == nil {
			needed[info.Digest.Name] = info.Digest
		}
	}
}

// checkTimestampOrder: each valid time-stamp is not older than the one it
// covers (EN 319 102-1: content time-stamp before the signature time-stamp,
// which is before the CAdES-C and certCRL time-stamps).
func checkTimestampOrder(st signerState, content, sig *Timestamp, later ...*Timestamp) {
	content, sig = passed(content), passed(sig)
	var bad []string
	compared := 0
	if content != nil && sig != nil {
		compared++
		if sig.Time.Before(content.Time) {
			bad = append(bad, fmt.Sprintf("the signature time-stamp (%s) is older than the content time-stamp (%s)", sig.Time.UTC().Format(time.RFC3339), content.Time.UTC().Format(time.RFC3339)))
		}
	}
	for _, l := range later {
		if l = passed(l); l != nil && sig != nil {
			compared++
			if l.Time.Before(sig.Time) {
				bad = append(bad, fmt.Sprintf("the %s time-stamp (%s) is older than the signature time-stamp (%s)", l.Kind, l.Time.UTC().Format(time.RFC3339), sig.Time.UTC().Format(time.RFC3339)))
			}
		}
	}
	switch {
	case len(bad) > 0:
		for _, b := range bad {
			st.add("TIMESTAMP_ORDER", Failed, b)
		}
		st.outcome(Indeterminate, TimestampOrderFailure)
	case compared > 0:
		st.add("TIMESTAMP_ORDER", Passed, "the time-stamps are in order")
	}
}

// refsImprintData returns what the certCRL time-stamp covers: ETSI TS 101
// 733 V2.2.1 clause 6.3.6 — the complete-certificate-references and the
// complete-revocation-references attributes, concatenated in that order,
// each encoded as for the CAdES-C time-stamp (attrType and attrValues as
// received, without the Attribute's outer SEQUENCE).
func refsImprintData(si *cms.SignerInfo) ([]byte, error) {
	var out []byte
	for _, typ := range []asn1.ObjectIdentifier{OIDAttrCertificateRefs, OIDAttrRevocationRefs} {
		a, n := unsignedAttr(si, typ)
		if n != 1 {
			return nil, fmt.Errorf("the certCRL time-stamp needs one %v attribute, found %d", typ, n)
		}
		body, err := attrTypeAndValues(a)
		if err != nil {
			return nil, err
		}
		out = append(out, body...)
	}
	return out, nil
}

// attrTypeAndValues returns an attribute's attrType and attrValues as
// received: its encoding without the outer SEQUENCE's tag and length.
func attrTypeAndValues(a *cms.Attribute) ([]byte, error) {
	s := cryptobyte.String(a.Raw)
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errors.New("an attribute covered by a time-stamp was not received as DER")
	}
	return body, nil
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
