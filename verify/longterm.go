package verify

// CAdES-C and CAdES-X Long Type 1 (ETSI TS 101 733 V2.2.1 clauses 6.2, 6.3;
// ETSI EN 319 122-2 clause 5.5): the validation data a signer or a verifier
// put into the unsigned attributes, so that the signature can be validated
// years later without network.
//
// Check codes: CERTIFICATE_VALUES, REVOCATION_VALUES (the values were read),
// CERTIFICATE_REFS, REVOCATION_REFS (every reference matches a value, hash
// over the value's received DER); CADES_C_TIMESTAMP (the escTimeStamp) is
// checked in timestamp.go.

import (
	"bytes"
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/internal/cms"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Attribute types of the long-term forms (ETSI TS 101 733 annex A).
var (
	OIDAttrCertificateRefs = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 21}
	OIDAttrRevocationRefs  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 22}
	OIDAttrCertValues      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 23}
	OIDAttrRevocationVals  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 24}
	OIDAttrEscTimeStamp    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 25}
)

// Levels a signer reaches (SignerReport.Level).
const (
	LevelCMS = "CMS"
	LevelBES = "BES"
	LevelT   = "T"
	LevelC   = "C"
	LevelXL1 = "X-L1"
	LevelXL2 = "X-L2"
)

// Time-stamp kinds in SignerReport.Timestamps.
const (
	TimestampSignature = "signature"
	TimestampCAdESC    = "cades-c"
	TimestampRefs      = "certcrl" // time-stamped certificates and CRLs references (X-L Type 2)
	TimestampContent   = "content"
)

// maxLongTermItems bounds the number of values or references one attribute
// may carry.
const maxLongTermItems = 4096

// hashRef is an OtherHash (TS 101 733 6.2.1): a SHA-1 hash (the sha1Hash
// choice, an OCTET STRING) or an OtherHashAndValue with its algorithm.
type hashRef struct {
	Alg  asn1.ObjectIdentifier // nil for the sha1Hash choice
	Hash []byte
}

var oidSHA1 = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}

func (h hashRef) algorithm() asn1.ObjectIdentifier {
	if h.Alg == nil {
		return oidSHA1
	}
	return h.Alg
}

// matches reports whether h is the hash of der; an unknown algorithm is an
// error.
func (h hashRef) matches(der []byte) (bool, error) {
	d, err := certs.DigestByOID(h.algorithm())
	if err != nil {
		return false, err
	}
	return bytes.Equal(d.Sum(der), h.Hash), nil
}

var errLongTerm = errors.New("malformed long-term attribute")

func readOtherHash(s *cryptobyte.String) (hashRef, bool) {
	if s.PeekASN1Tag(cbasn1.OCTET_STRING) {
		var h []byte
		if !s.ReadASN1Bytes(&h, cbasn1.OCTET_STRING) {
			return hashRef{}, false
		}
		return hashRef{Hash: h}, true
	}
	var seq, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var h []byte
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
		!seq.ReadASN1Bytes(&h, cbasn1.OCTET_STRING) || !seq.Empty() {
		return hashRef{}, false
	}
	return hashRef{Alg: oid, Hash: h}, true
}

// readSeqOf reads a SEQUENCE OF (with the given tag) and returns each
// element's full encoding.
func readSeqOf(s *cryptobyte.String, tag cbasn1.Tag) ([][]byte, bool) {
	var body cryptobyte.String
	if !s.ReadASN1(&body, tag) {
		return nil, false
	}
	var out [][]byte
	for !body.Empty() {
		var el cryptobyte.String
		var elTag cbasn1.Tag
		if !body.ReadAnyASN1Element(&el, &elTag) || len(out) >= maxLongTermItems {
			return nil, false
		}
		out = append(out, el)
	}
	return out, true
}

// parseCertificateValues reads CertificateValues ::= SEQUENCE OF Certificate
// (TS 101 733 6.3.3) and returns each certificate's received DER.
func parseCertificateValues(der []byte) ([][]byte, error) {
	s := cryptobyte.String(der)
	out, ok := readSeqOf(&s, cbasn1.SEQUENCE)
	if !ok || !s.Empty() {
		return nil, fmt.Errorf("certificate-values: %w", errLongTerm)
	}
	return out, nil
}

// revocationValues is RevocationValues (TS 101 733 6.3.4): crlVals [0]
// SEQUENCE OF CertificateList, ocspVals [1] SEQUENCE OF BasicOCSPResponse,
// otherRevVals [2], each optional; the values' received DER.
type revocationValues struct {
	CRLs  [][]byte
	OCSPs [][]byte
	Other bool
}

func parseRevocationValues(der []byte) (*revocationValues, error) {
	s := cryptobyte.String(der)
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, fmt.Errorf("revocation-values: %w", errLongTerm)
	}
	rv := &revocationValues{}
	t0, t1, t2 := cbasn1.Tag(0).ContextSpecific().Constructed(), cbasn1.Tag(1).ContextSpecific().Constructed(), cbasn1.Tag(2).ContextSpecific().Constructed()
	// crlVals [0] and ocspVals [1]: each an optional SEQUENCE OF values.
	for _, f := range []struct {
		tag  cbasn1.Tag
		name string
		out  *[][]byte
	}{{t0, "crlVals", &rv.CRLs}, {t1, "ocspVals", &rv.OCSPs}} {
		if !body.PeekASN1Tag(f.tag) {
			continue
		}
		var inner cryptobyte.String
		var ok bool
		if !body.ReadASN1(&inner, f.tag) {
			return nil, fmt.Errorf("revocation-values %s: %w", f.name, errLongTerm)
		}
		if *f.out, ok = readSeqOf(&inner, cbasn1.SEQUENCE); !ok || !inner.Empty() {
			return nil, fmt.Errorf("revocation-values %s: %w", f.name, errLongTerm)
		}
	}
	if body.PeekASN1Tag(t2) {
		var skip cryptobyte.String
		if !body.ReadASN1(&skip, t2) {
			return nil, fmt.Errorf("revocation-values otherRevVals: %w", errLongTerm)
		}
		rv.Other = true
	}
	if !body.Empty() {
		return nil, fmt.Errorf("revocation-values: %w", errLongTerm)
	}
	return rv, nil
}

// parseCertificateRefs reads CompleteCertificateRefs ::= SEQUENCE OF
// OtherCertID, OtherCertID ::= SEQUENCE { otherCertHash OtherHash,
// issuerSerial IssuerSerial OPTIONAL } (TS 101 733 6.2.1). The issuerSerial
// is not compared: the hash identifies the certificate.
func parseCertificateRefs(der []byte) ([]hashRef, error) {
	s := cryptobyte.String(der)
	els, ok := readSeqOf(&s, cbasn1.SEQUENCE)
	if !ok || !s.Empty() {
		return nil, fmt.Errorf("complete-certificate-references: %w", errLongTerm)
	}
	out := make([]hashRef, 0, len(els))
	for _, el := range els {
		e := cryptobyte.String(el)
		var id cryptobyte.String
		h, ok := hashRef{}, e.ReadASN1(&id, cbasn1.SEQUENCE)
		if ok {
			h, ok = readOtherHash(&id)
		}
		if ok && !id.Empty() {
			var is cryptobyte.String
			ok = id.ReadASN1(&is, cbasn1.SEQUENCE) && id.Empty()
		}
		if !ok {
			return nil, fmt.Errorf("complete-certificate-references: %w", errLongTerm)
		}
		out = append(out, h)
	}
	return out, nil
}

// revocationRefs are the hashes of CompleteRevocationRefs (TS 101 733
// 6.2.2): CrlOcspRef ::= SEQUENCE { crlids [0] CRLListID, ocspids [1]
// OcspListID, otherRev [2] OtherRevRefs } (each optional); CrlValidatedID ::=
// SEQUENCE { crlHash OtherHash, crlIdentifier OPTIONAL }; OcspResponsesID ::=
// SEQUENCE { ocspIdentifier OcspIdentifier, ocspRepHash OtherHash OPTIONAL }.
type revocationRefs struct {
	CRLs        []hashRef
	OCSPs       []hashRef // only those with an ocspRepHash
	OCSPNoHash  int       // OCSP references without a hash: not comparable
	OtherRefs   int
	CrlOcspRefs int
}

func parseRevocationRefs(der []byte) (*revocationRefs, error) {
	bad := fmt.Errorf("complete-revocation-references: %w", errLongTerm)
	s := cryptobyte.String(der)
	els, ok := readSeqOf(&s, cbasn1.SEQUENCE)
	if !ok || !s.Empty() {
		return nil, bad
	}
	rr := &revocationRefs{CrlOcspRefs: len(els)}
	t0, t1, t2 := cbasn1.Tag(0).ContextSpecific().Constructed(), cbasn1.Tag(1).ContextSpecific().Constructed(), cbasn1.Tag(2).ContextSpecific().Constructed()
	for _, el := range els {
		e := cryptobyte.String(el)
		var ref cryptobyte.String
		if !e.ReadASN1(&ref, cbasn1.SEQUENCE) {
			return nil, bad
		}
		if ref.PeekASN1Tag(t0) {
			var crlids, list cryptobyte.String
			if !ref.ReadASN1(&crlids, t0) || !crlids.ReadASN1(&list, cbasn1.SEQUENCE) || !crlids.Empty() {
				return nil, bad
			}
			ids, ok := readSeqOf(&list, cbasn1.SEQUENCE)
			if !ok || !list.Empty() {
				return nil, bad
			}
			for _, id := range ids {
				v := cryptobyte.String(id)
				var body cryptobyte.String
				if !v.ReadASN1(&body, cbasn1.SEQUENCE) {
					return nil, bad
				}
				h, ok := readOtherHash(&body)
				if !ok {
					return nil, bad
				}
				if !body.Empty() { // crlIdentifier
					var cid cryptobyte.String
					if !body.ReadASN1(&cid, cbasn1.SEQUENCE) || !body.Empty() {
						return nil, bad
					}
				}
				rr.CRLs = append(rr.CRLs, h)
			}
		}
		if ref.PeekASN1Tag(t1) {
			var ocspids, list cryptobyte.String
			if !ref.ReadASN1(&ocspids, t1) || !ocspids.ReadASN1(&list, cbasn1.SEQUENCE) || !ocspids.Empty() {
				return nil, bad
			}
			ids, ok := readSeqOf(&list, cbasn1.SEQUENCE)
			if !ok || !list.Empty() {
				return nil, bad
			}
			for _, id := range ids {
				v := cryptobyte.String(id)
				var body, oid cryptobyte.String
				if !v.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&oid, cbasn1.SEQUENCE) {
					return nil, bad
				}
				if body.Empty() {
					rr.OCSPNoHash++
					continue
				}
				h, ok := readOtherHash(&body)
				if !ok || !body.Empty() {
					return nil, bad
				}
				rr.OCSPs = append(rr.OCSPs, h)
			}
		}
		if ref.PeekASN1Tag(t2) {
			var skip cryptobyte.String
			if !ref.ReadASN1(&skip, t2) {
				return nil, bad
			}
			rr.OtherRefs++
		}
		if !ref.Empty() {
			return nil, bad
		}
	}
	return rr, nil
}

// longTerm is what a signer's long-term attributes gave.
type longTerm struct {
	certs []*certs.Certificate
	crls  []*certs.CRL
	ocsps [][]byte // BasicOCSPResponse values, as received
	// present: the attributes found; ok: they parsed and the references
	// match the values.
	hasCertRefs, hasRevRefs, hasCertVals, hasRevVals, hasEsc, hasRefsTS bool
	refsOK, valsOK                                                      bool
}

// unsignedAttr returns the values of an unsigned attribute and how often it
// occurs.
func unsignedAttr(si *cms.SignerInfo, typ asn1.ObjectIdentifier) (*cms.Attribute, int) {
	var a *cms.Attribute
	n := 0
	for i := range si.UnsignedAttrs {
		if si.UnsignedAttrs[i].Type.Equal(typ) {
			if a == nil {
				a = &si.UnsignedAttrs[i]
			}
			n++
		}
	}
	return a, n
}

// readLongTerm reads the values and references of si; a failure decides the
// verdict (TOTAL_FAILED, FORMAT_FAILURE): a signature that claims
// validation data it does not carry is not a valid long-term signature.
func readLongTerm(st signerState, si *cms.SignerInfo, embedded []*certs.Certificate) *longTerm {
	lt := &longTerm{valsOK: true, refsOK: true}
	one := func(code string, typ asn1.ObjectIdentifier, name string) []byte {
		a, n := unsignedAttr(si, typ)
		switch {
		case n == 0:
			return nil
		case n > 1 || len(a.Values) != 1:
			st.add(code, Failed, name+" occurs more than once or with several values")
			st.outcome(TotalFailed, FormatFailure)
			return nil
		}
		return a.Values[0]
	}
	var certDER [][]byte
	if v := one("CERTIFICATE_VALUES", OIDAttrCertValues, "certificate-values"); v != nil {
		lt.hasCertVals = true
		vals, err := parseCertificateValues(v)
		if err != nil {
			st.add("CERTIFICATE_VALUES", Failed, err.Error())
			st.outcome(TotalFailed, FormatFailure)
			lt.valsOK = false
		} else {
			bad := 0
			for _, raw := range vals {
				c, err := certs.ParseCertificate(raw)
				if err != nil {
					bad++
					continue
				}
				lt.certs = append(lt.certs, c)
			}
			certDER = vals
			if bad > 0 {
				st.add("CERTIFICATE_VALUES", Failed, fmt.Sprintf("%d of %d certificate values could not be parsed", bad, len(vals)))
				st.outcome(TotalFailed, FormatFailure)
				lt.valsOK = false
			} else {
				st.add("CERTIFICATE_VALUES", Passed, fmt.Sprintf("%d certificates", len(vals)))
			}
		}
	}
	var rv *revocationValues
	if v := one("REVOCATION_VALUES", OIDAttrRevocationVals, "revocation-values"); v != nil {
		lt.hasRevVals = true
		var err error
		if rv, err = parseRevocationValues(v); err != nil {
			st.add("REVOCATION_VALUES", Failed, err.Error())
			st.outcome(TotalFailed, FormatFailure)
			lt.valsOK = false
		} else {
			bad := 0
			for _, raw := range rv.CRLs {
				l, err := certs.ParseCRL(raw)
				if err != nil {
					bad++
					continue
				}
				lt.crls = append(lt.crls, l)
			}
			badOCSP := 0
			for _, raw := range rv.OCSPs {
				if _, err := revocation.ParseOCSPInfo(raw); err != nil {
					badOCSP++
					continue
				}
				lt.ocsps = append(lt.ocsps, raw)
			}
			switch {
			case bad > 0 || badOCSP > 0:
				st.add("REVOCATION_VALUES", Failed, fmt.Sprintf("%d of %d CRL values and %d of %d OCSP values could not be parsed", bad, len(rv.CRLs), badOCSP, len(rv.OCSPs)))
				st.outcome(TotalFailed, FormatFailure)
				lt.valsOK = false
			case rv.Other:
				// otherRevVals have no defined syntax to evaluate: the
				// chain's revocation checks say what answered instead.
				st.add("REVOCATION_VALUES", Warning, fmt.Sprintf("%d CRLs and %d OCSP responses used as evidence; otherRevVals are not evaluated", len(rv.CRLs), len(rv.OCSPs)))
			default:
				st.add("REVOCATION_VALUES", Passed, fmt.Sprintf("%d CRLs and %d OCSP responses, used as revocation evidence", len(rv.CRLs), len(rv.OCSPs)))
			}
		}
	}

	// References: each must match a value (TS 101 733 6.3.3, 6.3.4: the
	// values are those the references name), hash over the value's DER.
	if v := one("CERTIFICATE_REFS", OIDAttrCertificateRefs, "complete-certificate-references"); v != nil {
		lt.hasCertRefs = true
		refs, err := parseCertificateRefs(v)
		if err != nil {
			st.add("CERTIFICATE_REFS", Failed, err.Error())
			st.outcome(TotalFailed, FormatFailure)
			lt.refsOK = false
		} else {
			pool := append([][]byte{}, certDER...)
			for _, c := range embedded {
				pool = append(pool, c.Raw)
			}
			if msg := matchRefs(refs, pool, "certificate"); msg != "" && lt.hasCertVals {
				st.add("CERTIFICATE_REFS", Failed, msg)
				st.outcome(TotalFailed, FormatFailure)
				lt.refsOK = false
			} else if msg != "" {
				st.add("CERTIFICATE_REFS", NotChecked, "no certificate-values to compare with (CAdES-C): "+msg)
			} else {
				st.add("CERTIFICATE_REFS", Passed, fmt.Sprintf("%d references, each matches a certificate value", len(refs)))
			}
		}
	}
	if v := one("REVOCATION_REFS", OIDAttrRevocationRefs, "complete-revocation-references"); v != nil {
		lt.hasRevRefs = true
		refs, err := parseRevocationRefs(v)
		if err != nil {
			st.add("REVOCATION_REFS", Failed, err.Error())
			st.outcome(TotalFailed, FormatFailure)
			lt.refsOK = false
		} else {
			var crls, ocsps [][]byte
			if rv != nil {
				crls, ocsps = rv.CRLs, rv.OCSPs
			}
			msg := matchRefs(refs.CRLs, crls, "CRL")
			if msg == "" {
				msg = matchRefs(refs.OCSPs, ocsps, "OCSP response")
			}
			switch {
			case msg != "" && lt.hasRevVals:
				st.add("REVOCATION_REFS", Failed, msg)
				st.outcome(TotalFailed, FormatFailure)
				lt.refsOK = false
			case msg != "":
				st.add("REVOCATION_REFS", NotChecked, "no revocation-values to compare with (CAdES-C): "+msg)
			default:
				st.add("REVOCATION_REFS", Passed, fmt.Sprintf("%d CRL and %d OCSP references, each matches a revocation value", len(refs.CRLs), len(refs.OCSPs)))
			}
		}
	}
	_, nEsc := unsignedAttr(si, OIDAttrEscTimeStamp)
	lt.hasEsc = nEsc > 0
	_, nX2 := unsignedAttr(si, OIDAttrCertCRLTimestamp)
	lt.hasRefsTS = nX2 > 0
	return lt
}

// evidenceFirst answers revocation questions from the signature's own
// revocation values (revocation.Offline, no network) and asks online only
// what they do not cover, when an online checker was given.
type evidenceFirst struct {
	off    *revocation.Offline
	online certs.RevocationChecker
}

func (e evidenceFirst) CheckRevocation(ctx context.Context, c, issuer *certs.Certificate, at time.Time) (*certs.RevocationStatus, error) {
	st, err := e.off.CheckRevocation(ctx, c, issuer, at)
	if err != nil || st.State != certs.RevocationIndeterminate {
		return st, err
	}
	if e.online == nil {
		// No online check was asked for (Options.Revocation nil, kep verify
		// --revocation off): a certificate the values do not cover stays
		// unchecked, a warning, as without values; never proof.
		return &certs.RevocationStatus{State: certs.RevocationGood, SoftFail: true,
			Detail: "no online check was asked for, and the signature's revocation values do not cover it (" + st.Detail + ")"}, nil
	}
	on, err := e.online.CheckRevocation(ctx, c, issuer, at)
	if err != nil {
		return nil, fmt.Errorf("embedded evidence: %s; online: %w", st.Detail, err)
	}
	if on != nil {
		on.Warnings = append([]string{"embedded evidence: " + st.Detail}, on.Warnings...)
	}
	return on, nil
}

// matchRefs returns why a reference names none of the values, or "".
func matchRefs(refs []hashRef, values [][]byte, what string) string {
	for i, r := range refs {
		found := false
		for _, v := range values {
			ok, err := r.matches(v)
			if err != nil {
				return fmt.Sprintf("%s reference %d: %v", what, i+1, err)
			}
			if ok {
				found = true
				break
			}
		}
		if !found {
			return fmt.Sprintf("%s reference %d (hash %s) matches no %s value", what, i+1, r.algorithm(), what)
		}
	}
	return ""
}

// level is the CAdES level a signer reached: each level needs the one below
// and its own attributes, valid.
func level(r *SignerReport, si *cms.SignerInfo, lt *longTerm, esc, x2 *Timestamp) string {
	_, v2 := si.Attr(cms.OIDAttrSigningCertV2)
	_, v1 := si.Attr(cms.OIDAttrSigningCertificate)
	if si.RawSignedAttrs == nil || v1+v2 == 0 {
		return LevelCMS
	}
	if r.Timestamp == nil || r.Timestamp.Indication != TotalPassed {
		return LevelBES
	}
	if !lt.hasCertRefs || !lt.hasRevRefs || !lt.refsOK {
		return LevelT
	}
	if !lt.hasCertVals || !lt.hasRevVals || !lt.valsOK {
		return LevelC
	}
	switch {
	case passed(esc) != nil:
		return LevelXL1
	case passed(x2) != nil:
		return LevelXL2
	}
	return LevelC
}
