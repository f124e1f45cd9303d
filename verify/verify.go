// Package verify checks CMS/CAdES signatures and reports the result in a
// machine-readable form: a top-level indication and, for every signer, an
// indication, a sub-indication (the names of ETSI EN 319 102-1 as EU DSS uses
// them) and the list of checks that were run, each with a stable code.
//
// Every check runs even after another failed, so a report is complete. The
// validation time is Options.At, or now; the signer's own signingTime is
// reported and compared with the certificate's validity but is never the
// validation time.
//
// Check codes: FORMAT, CONTENT, SIGNER_CERTIFICATE, SIGNING_CERTIFICATE_REF
// (ESS signingCertificate and signingCertificateV2, one check each present),
// CONTENT_TYPE, MESSAGE_DIGEST, SIGNATURE, ALGORITHM_CONSTRAINTS
// (certs.AlgorithmConstraints, with the row's Reason), CERTIFICATE_ENCODING
// (a signer certificate read leniently, a warning),
// ALGORITHM_PROTECTION (RFC 6211), SIGNED_ATTRIBUTES (unknown ones), SIGNING_TIME,
// CHAIN (with the chain's own checks in the report's chain field).
package verify

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/ctxio"
	"github.com/kepkit/kep/tsp"
)

// Indications (ETSI EN 319 102-1).
const (
	TotalPassed   = "TOTAL_PASSED"
	TotalFailed   = "TOTAL_FAILED"
	Indeterminate = "INDETERMINATE"
)

// Sub-indications this package produces itself; chain validation adds its own
// (certs package doc).
const (
	CryptoConstraintsFailureNoPOE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	FormatFailure                 = "FORMAT_FAILURE"
	HashFailure                   = "HASH_FAILURE"
	SigCryptoFailure              = "SIG_CRYPTO_FAILURE"
	SignedDataNotFound            = "SIGNED_DATA_NOT_FOUND"
	NoSigningCertificateFound     = "NO_SIGNING_CERTIFICATE_FOUND"
	CryptoConstraintsFailure      = "CRYPTO_CONSTRAINTS_FAILURE"
	SigConstraintsFailure         = "SIG_CONSTRAINTS_FAILURE"
)

// Check statuses.
const (
	Passed     = "passed"
	Failed     = "failed"
	Warning    = "warning"
	NotChecked = "not_checked"
)

// Profile selects how strictly CAdES attributes are required.
type Profile int

const (
	// ProfileCMS accepts any RFC 5652 signature; a missing ESS
	// signingCertificate attribute is a warning.
	ProfileCMS Profile = iota
	// ProfileCAdESBES requires signed attributes with signingCertificate(V2)
	// and signingTime.
	ProfileCAdESBES
	// ProfileCAdEST also requires a valid signature time-stamp (RFC 3161).
	ProfileCAdEST
)

// Options controls a verification. The zero value is strict: no trust
// anchors means no chain can be found (INDETERMINATE), never "skip the chain".
type Options struct {
	Roots         []*certs.Certificate
	Intermediates []*certs.Certificate // besides those inside the signature
	CRLs          []*certs.CRL
	// Accreditation, when set, checks that the signer's issuing CA was
	// accredited at the signing time (the time-stamp's, else the validation
	// time): certs/trustlist.List. The result is the ISSUER_ACCREDITED check
	// and SignerReport.Qualified.
	Accreditation AccreditationChecker
	// RequireQualified fails a signature whose issuer was not accredited.
	RequireQualified bool
	// nested is set while a signature time-stamp's own token is verified:
	// the token's time-stamps (there should be none) are not followed.
	nested bool
	// Revocation, when set, checks online (OCSP, CRL distribution points)
	// every certificate the CRLs do not answer for: certs/revocation.Checker.
	Revocation certs.RevocationChecker
	// At is the validation time (time.Now when zero).
	At time.Time
	// Content is the detached content; ignored for attached signatures.
	Content io.Reader
	// Purpose of the signer's certificate (zero value: signing).
	Purpose certs.Purpose
	Profile Profile
}

// Check is one check's outcome.
type Check struct {
	Code   string `json:"code"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Reason is a stable code refining Code where there is one: the
	// certs.AlgorithmConstraints row of an ALGORITHM_CONSTRAINTS check, the
	// field leniency of a CERTIFICATE_ENCODING warning.
	Reason string `json:"reason,omitempty"`
}

// CertInfo identifies a certificate in a report.
type CertInfo struct {
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	Serial       string    `json:"serial"`
	Thumbprint   string    `json:"thumbprint"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	KeyAlgorithm string    `json:"keyAlgorithm"`
}

// SignerReport is the outcome for one signer.
type SignerReport struct {
	Index              int                `json:"index"`
	Indication         string             `json:"indication"`
	SubIndication      string             `json:"subIndication,omitempty"`
	Checks             []Check            `json:"checks"`
	Signer             *certs.Qualified   `json:"signer,omitempty"`
	Certificate        *CertInfo          `json:"certificate,omitempty"`
	SigningTime        *time.Time         `json:"signingTime,omitempty"`
	DigestAlgorithm    string             `json:"digestAlgorithm"`
	SignatureAlgorithm string             `json:"signatureAlgorithm"`
	Chain              *certs.ChainResult `json:"chain,omitempty"`
	// Timestamp is the signature time-stamp (CAdES-T), when there is one.
	Timestamp *Timestamp `json:"timestamp,omitempty"`
	// Timestamps lists every time-stamp checked: the signature time-stamp
	// and the CAdES-C time-stamp (longterm.go).
	Timestamps []Timestamp `json:"timestamps,omitempty"`
	// Level is the CAdES level reached: LevelCMS, LevelBES, LevelT, LevelC
	// or LevelXL1.
	Level string `json:"level"`
	// Qualified: the signature validated and its issuer was an accredited
	// CA (checked only with Options.Accreditation).
	Qualified bool `json:"qualified"`
}

// AccreditationChecker says whether a CA certificate belonged to an
// accredited CA at a time, with a sentence saying why.
type AccreditationChecker interface {
	CheckAccreditation(ca *certs.Certificate, at time.Time) (bool, string)
}

// Timestamp is the outcome of a signature time-stamp: a TSA's proof that the
// signature existed at Time.
type Timestamp struct {
	// Kind is TimestampSignature or TimestampCAdESC.
	Kind          string    `json:"kind,omitempty"`
	Time          time.Time `json:"time"`
	TSA           string    `json:"tsa,omitempty"`
	Indication    string    `json:"indication"`
	SubIndication string    `json:"subIndication,omitempty"`
	Detail        string    `json:"detail,omitempty"`
}

// Report is the outcome of a verification.
type Report struct {
	Indication     string         `json:"indication"`
	SubIndication  string         `json:"subIndication,omitempty"`
	ValidationTime time.Time      `json:"validationTime"`
	Detached       bool           `json:"detached"`
	ContentType    string         `json:"contentType,omitempty"`
	Checks         []Check        `json:"checks,omitempty"`
	Signers        []SignerReport `json:"signers"`
	// Content is the encapsulated content of an attached signature.
	Content []byte `json:"-"`
}

// Verify checks the CMS signature sig (BER or DER). The error is non-nil only
// when the detached content cannot be read; everything about the signature
// itself is in the report.
func Verify(ctx context.Context, sig []byte, opts Options) (_ *Report, err error) {
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	rep := &Report{ValidationTime: at.UTC()}
	if reportHook != nil {
		defer func() {
			if err == nil {
				reportHook(rep)
			}
		}()
	}
	precomputeAnchors(opts.Roots)
	sd, err := cms.Parse(sig)
	if err != nil {
		rep.fail(FormatFailure, Check{Code: "FORMAT", Status: Failed, Detail: err.Error()})
		return rep, nil
	}
	rep.Checks = append(rep.Checks, Check{Code: "FORMAT", Status: Passed})
	rep.ContentType = sd.EContentType.String()
	rep.Detached = sd.EContent == nil
	rep.Content = sd.EContent
	if len(sd.SignerInfos) == 0 {
		rep.fail(FormatFailure, Check{Code: "FORMAT", Status: Failed, Detail: "the signature has no signers"})
		return rep, nil
	}

	// Hash the content once per digest algorithm the signers use.
	needed := map[string]*certs.Digest{}
	for _, si := range sd.SignerInfos {
		if d, err := certs.DigestByOID(si.DigestAlgorithm.Algorithm); err == nil {
			needed[d.Name] = d
		}
	}
	digests, contentCheck, err := hashContent(ctx, sd, opts.Content, needed)
	if err != nil {
		return nil, err
	}
	rep.Checks = append(rep.Checks, contentCheck)

	embedded, badCerts := parseEmbedded(sd.Certificates)
	if badCerts > 0 {
		rep.Checks = append(rep.Checks, Check{Code: "FORMAT", Status: Warning, Detail: fmt.Sprintf("%d embedded certificate(s) could not be parsed and were ignored", badCerts)})
	}
	seen := map[string]bool{}
	for i := range sd.SignerInfos {
		sr := verifySigner(ctx, &sd.SignerInfos[i], sd, digests, embedded, opts, at)
		sr.Index = i + 1
		key := string(sd.SignerInfos[i].Signature)
		if seen[key] {
			sr.Checks = append(sr.Checks, Check{Code: "FORMAT", Status: Warning, Detail: "duplicate signer"})
		}
		seen[key] = true
		rep.Signers = append(rep.Signers, sr)
	}
	rep.Indication = TotalPassed
	for _, s := range rep.Signers {
		switch {
		case s.Indication == TotalFailed:
			rep.Indication = TotalFailed
		case s.Indication == Indeterminate && rep.Indication == TotalPassed:
			rep.Indication = Indeterminate
		}
	}
	return rep, nil
}

// reportHook, set only by this package's tests (export_test.go), sees every
// report Verify returns, nested ones included.
var reportHook func(*Report)

// precomputeAnchors builds the comb tables of the trust anchors' GOST keys:
// callers keep their roots for many verifications, and every certificate
// signature a root checks is then about three times cheaper.
func precomputeAnchors(roots []*certs.Certificate) {
	for _, r := range roots {
		if k, ok := r.PublicKey.(*gost3410.PublicKey); ok {
			k.Precompute()
		}
	}
}

func (rep *Report) fail(sub string, c Check) {
	rep.Indication, rep.SubIndication = TotalFailed, sub
	rep.Checks = append(rep.Checks, c)
}

// hashContent digests the attached content, or streams the detached content
// once through every digest needed.
func hashContent(ctx context.Context, sd *cms.SignedData, detached io.Reader, needed map[string]*certs.Digest) (map[string][]byte, Check, error) {
	var src io.Reader
	switch {
	case sd.EContent != nil:
		src = bytes.NewReader(sd.EContent)
	case detached != nil:
		src = detached
	default:
		return nil, Check{Code: "CONTENT", Status: Failed, Detail: "detached signature and no content supplied"}, nil
	}
	hashes := map[string]hash.Hash{}
	var ws []io.Writer
	for name, d := range needed {
		h := d.New()
		hashes[name] = h
		ws = append(ws, h)
	}
	if _, err := ctxio.Copy(ctx, io.MultiWriter(ws...), src); err != nil {
		return nil, Check{}, fmt.Errorf("verify: reading content: %w", err)
	}
	out := map[string][]byte{}
	for name, h := range hashes {
		out[name] = h.Sum(nil)
	}
	detail := "attached"
	if sd.EContent == nil {
		detail = "detached, supplied"
	}
	return out, Check{Code: "CONTENT", Status: Passed, Detail: detail}, nil
}

func parseEmbedded(raws [][]byte) ([]*certs.Certificate, int) {
	var out []*certs.Certificate
	bad := 0
	for _, raw := range raws {
		c, err := certs.ParseCertificate(raw)
		if err != nil {
			bad++ // attribute certificates and the like
			continue
		}
		out = append(out, c)
	}
	return out, bad
}

// signerState accumulates a signer's checks and its worst outcome.
type signerState struct {
	r *SignerReport
}

func (s signerState) add(code, status, detail string) {
	s.r.Checks = append(s.r.Checks, Check{Code: code, Status: status, Detail: detail})
}

// outcome records a failure's indication unless a worse one is already set:
// TOTAL_FAILED beats INDETERMINATE, and the first of a kind wins.
func (s signerState) outcome(ind, sub string) {
	if s.r.Indication == TotalFailed || (s.r.Indication == Indeterminate && ind == Indeterminate) {
		return
	}
	s.r.Indication, s.r.SubIndication = ind, sub
}

func verifySigner(ctx context.Context, si *cms.SignerInfo, sd *cms.SignedData, digests map[string][]byte, embedded []*certs.Certificate, opts Options, at time.Time) SignerReport {
	r := SignerReport{DigestAlgorithm: si.DigestAlgorithm.Algorithm.String(), SignatureAlgorithm: si.SignatureAlgorithm.Algorithm.String()}
	st := signerState{&r}

	// Signer identifier and version agree (RFC 5652 5.3).
	if (si.IssuerAndSerial != nil && si.Version != 1) || (si.SubjectKeyID != nil && si.Version != 3) {
		st.add("FORMAT", Warning, fmt.Sprintf("SignerInfo version %d does not match its signer identifier", si.Version))
	}

	d, derr := certs.DigestByOID(si.DigestAlgorithm.Algorithm)
	if derr == nil {
		r.DigestAlgorithm = d.Name
	} else {
		st.add("SIGNATURE", Failed, derr.Error())
		st.outcome(Indeterminate, CryptoConstraintsFailure)
	}

	// Long-term validation data (longterm.go): its certificates and CRLs
	// join those of the signature and of the options.
	lt := readLongTerm(st, si, embedded)
	embedded = append(embedded[:len(embedded):len(embedded)], lt.certs...)
	opts.CRLs = append(append([]*certs.CRL{}, opts.CRLs...), lt.crls...)

	// Signing certificate.
	candidates := append(append(append([]*certs.Certificate{}, embedded...), opts.Intermediates...), opts.Roots...)
	cert := findSigner(si, candidates)
	if cert == nil {
		st.add("SIGNER_CERTIFICATE", Failed, "the signer's certificate is neither in the signature nor supplied")
		st.outcome(Indeterminate, NoSigningCertificateFound)
	} else {
		st.add("SIGNER_CERTIFICATE", Passed, cert.SubjectString())
		for _, l := range cert.Leniencies {
			r.Checks = append(r.Checks, Check{Code: "CERTIFICATE_ENCODING", Status: Warning, Detail: l.Detail, Reason: l.Reason})
		}
		q := cert.Qualified
		r.Signer = &q
		r.Certificate = &CertInfo{Subject: cert.SubjectString(), Issuer: cert.IssuerString(), Serial: fmt.Sprintf("%X", cert.SerialNumber),
			Thumbprint: cert.Thumbprint(), NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, KeyAlgorithm: cert.KeyAlgorithm}
	}

	contentDigest, haveContent := []byte(nil), false
	if d != nil {
		contentDigest, haveContent = digests[d.Name]
	}
	if digests == nil {
		st.outcome(Indeterminate, SignedDataNotFound)
	}

	signed := contentDigest // what the signature covers, when no signed attributes
	if si.RawSignedAttrs != nil {
		checkSignedAttrs(st, si, sd, cert, d, contentDigest, haveContent, opts, at)
		if d != nil {
			signed = d.Sum(si.SignedAttrsForSignature())
		}
	} else {
		if opts.Profile >= ProfileCAdESBES {
			st.add("SIGNED_ATTRIBUTES", Failed, "no signed attributes: not CAdES-BES")
			st.outcome(TotalFailed, FormatFailure)
		} else {
			st.add("SIGNING_CERTIFICATE_REF", Warning, "no signed attributes: a plain CMS signature, not CAdES-BES")
		}
		if !haveContent {
			signed = nil
		}
	}

	// The signature itself.
	switch {
	case cert == nil || d == nil:
		st.add("SIGNATURE", NotChecked, "no certificate or digest to check it with")
	case signed == nil:
		st.add("SIGNATURE", NotChecked, "the signed content is missing")
	default:
		if err := cert.VerifyDigest(si.SignatureAlgorithm, d, signed, si.Signature); err != nil {
			st.add("SIGNATURE", Failed, err.Error())
			if errors.Is(err, certs.ErrSignatureInvalid) {
				st.outcome(TotalFailed, SigCryptoFailure)
			} else {
				st.outcome(Indeterminate, CryptoConstraintsFailure)
			}
		} else {
			st.add("SIGNATURE", Passed, "")
		}
	}

	// The signature time-stamp: proof of existence at its time.
	claimsLongTerm := lt.hasCertRefs || lt.hasRevRefs || lt.hasCertVals || lt.hasRevVals || lt.hasEsc
	r.Timestamp = checkTimestamp(ctx, st, si, embedded, opts, at, opts.Profile >= ProfileCAdEST || claimsLongTerm)
	esc := checkEscTimestamp(ctx, st, si, embedded, nil, r.Timestamp, opts, at)
	for _, ts := range []*Timestamp{r.Timestamp, esc} {
		if ts != nil {
			r.Timestamps = append(r.Timestamps, *ts)
		}
	}

	// Algorithm constraints (certs.AlgorithmConstraints) at the earliest
	// proof of existence: the time-stamp's time, else the validation time.
	if cert != nil && d != nil {
		poe := certs.POE{Time: at, Source: "the validation time"}
		if ts := r.Timestamp; ts != nil && ts.Indication == TotalPassed && ts.Time.Before(at) {
			poe = certs.POE{Time: ts.Time, Source: "the signature time-stamp"}
		}
		for _, cr := range certs.CheckAlgorithms(cert, d, poe) {
			c := Check{Code: certs.CheckAlgConstraint, Status: Passed, Detail: cr.Message(), Reason: cr.Constraint.Reason}
			if !cr.Accepted {
				c.Status = Failed
				st.outcome(Indeterminate, CryptoConstraintsFailureNoPOE)
			}
			r.Checks = append(r.Checks, c)
		}
	}

	// The certificate path.
	if cert != nil {
		inter := append(append([]*certs.Certificate{}, embedded...), opts.Intermediates...)
		vopts := certs.VerifyOptions{Roots: opts.Roots, Intermediates: inter, At: at, Purpose: opts.Purpose,
			CRLs: opts.CRLs, Revocation: opts.Revocation}
		chain := certs.VerifyContext(ctx, cert, vopts)
		poe := ""
		if ts := r.Timestamp; chain.Indication != TotalPassed && ts != nil && ts.Indication == TotalPassed && ts.Time.Before(at) &&
			(chain.SubIndication == certs.SubOutOfBoundsNoPOE || chain.SubIndication == certs.SubOutOfBoundsNotRevoked || chain.SubIndication == certs.SubRevokedNoPOE ||
				chain.SubIndication == certs.SubCryptoConstraintsFailureNoPOE) {
			// Expired, revoked or cryptographically outdated now, but the
			// time-stamp proves the signature existed before: validate at
			// its time (ETSI EN 319 102-1, past signature validation).
			vopts.At, vopts.POESource = ts.Time, "the signature time-stamp"
			if past := certs.VerifyContext(ctx, cert, vopts); past.Indication == TotalPassed {
				poe = fmt.Sprintf("valid at the time-stamp time %s (now %s/%s)", ts.Time.UTC().Format(time.RFC3339), chain.Indication, chain.SubIndication)
				chain = past
			}
		}
		r.Chain = chain
		if chain.Indication == TotalPassed {
			st.add("CHAIN", Passed, poe)
		} else {
			st.add("CHAIN", Failed, chain.Indication+"/"+chain.SubIndication)
			st.outcome(chain.Indication, chain.SubIndication)
		}
		if opts.Accreditation != nil {
			when := at
			if r.Timestamp != nil && r.Timestamp.Indication == TotalPassed {
				when = r.Timestamp.Time
			}
			switch {
			case len(chain.Chain) < 2:
				st.add("ISSUER_ACCREDITED", NotChecked, "the issuer's certificate is unknown")
				if opts.RequireQualified {
					st.outcome(Indeterminate, NoSigningCertificateFound)
				}
			default:
				ok, detail := opts.Accreditation.CheckAccreditation(chain.Chain[1], when)
				if ok {
					st.add("ISSUER_ACCREDITED", Passed, detail)
					r.Qualified = chain.Indication == TotalPassed
				} else if opts.RequireQualified {
					st.add("ISSUER_ACCREDITED", Failed, detail)
					st.outcome(TotalFailed, SigConstraintsFailure)
				} else {
					st.add("ISSUER_ACCREDITED", Warning, detail+" (not decisive: a qualified signature was not required; the signature is not qualified)")
				}
			}
		}
	}
	if r.Indication == "" {
		r.Indication = TotalPassed
	}
	r.Qualified = r.Qualified && r.Indication == TotalPassed
	r.Level = level(&r, si, lt, esc)
	return r
}

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

func findSigner(si *cms.SignerInfo, candidates []*certs.Certificate) *certs.Certificate {
	for _, c := range candidates {
		switch {
		case si.IssuerAndSerial != nil:
			if bytes.Equal(c.RawIssuer, si.IssuerAndSerial.RawIssuer) && c.SerialNumber.Cmp(si.IssuerAndSerial.Serial) == 0 {
				return c
			}
		case si.SubjectKeyID != nil:
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, si.SubjectKeyID) {
				return c
			}
		}
	}
	return nil
}

var knownAttrs = []asn1.ObjectIdentifier{
	cms.OIDAttrContentType, cms.OIDAttrMessageDigest, cms.OIDAttrSigningTime,
	cms.OIDAttrSigningCertificate, cms.OIDAttrSigningCertV2, cms.OIDAttrAlgProtection,
	{1, 2, 840, 113549, 1, 9, 15}, // S/MIME capabilities
}

func checkSignedAttrs(st signerState, si *cms.SignerInfo, sd *cms.SignedData, cert *certs.Certificate, d *certs.Digest, contentDigest []byte, haveContent bool, opts Options, at time.Time) {
	// contentType: present once, equal to eContentType.
	if vals, n := si.Attr(cms.OIDAttrContentType); n != 1 || len(vals) != 1 {
		st.add("CONTENT_TYPE", Failed, fmt.Sprintf("contentType attribute occurs %d times", n))
		st.outcome(TotalFailed, FormatFailure)
	} else {
		var ct asn1.ObjectIdentifier
		if rest, err := asn1.Unmarshal(vals[0], &ct); err != nil || len(rest) != 0 || !ct.Equal(sd.EContentType) {
			st.add("CONTENT_TYPE", Failed, "contentType attribute differs from the encapsulated content type")
			st.outcome(TotalFailed, FormatFailure)
		} else {
			st.add("CONTENT_TYPE", Passed, ct.String())
		}
	}

	// messageDigest: present once and equal to the content's digest.
	vals, n := si.Attr(cms.OIDAttrMessageDigest)
	var md []byte
	if n == 1 && len(vals) == 1 {
		if rest, err := asn1.Unmarshal(vals[0], &md); err != nil || len(rest) != 0 {
			md = nil
		}
	}
	switch {
	case md == nil:
		st.add("MESSAGE_DIGEST", Failed, fmt.Sprintf("messageDigest attribute missing or malformed (%d occurrences)", n))
		st.outcome(TotalFailed, FormatFailure)
	case !haveContent:
		st.add("MESSAGE_DIGEST", NotChecked, "the signed content is missing")
		st.outcome(Indeterminate, SignedDataNotFound)
	case !bytes.Equal(md, contentDigest):
		st.add("MESSAGE_DIGEST", Failed, "the content's digest differs from the signed messageDigest: the content was changed")
		st.outcome(TotalFailed, HashFailure)
	default:
		st.add("MESSAGE_DIGEST", Passed, "")
	}

	checkESS(st, si, cert, opts)

	// CMSAlgorithmProtection (RFC 6211), when present.
	if vals, n := si.Attr(cms.OIDAttrAlgProtection); n > 0 {
		if msg := checkAlgProtection(vals, n, si); msg != "" {
			st.add("ALGORITHM_PROTECTION", Failed, msg)
			st.outcome(TotalFailed, FormatFailure)
		} else {
			st.add("ALGORITHM_PROTECTION", Passed, "")
		}
	}

	// signingTime: reported, and inside the certificate's validity.
	if vals, n := si.Attr(cms.OIDAttrSigningTime); n == 1 && len(vals) == 1 {
		t, err := cms.ParseTime(vals[0])
		switch {
		case err != nil:
			st.add("SIGNING_TIME", Failed, err.Error())
			st.outcome(TotalFailed, FormatFailure)
		case cert != nil && (t.Before(cert.NotBefore) || t.After(cert.NotAfter)):
			st.r.SigningTime = &t
			st.add("SIGNING_TIME", Warning, fmt.Sprintf("claimed signing time %s is outside the certificate's validity", t.UTC().Format(time.RFC3339)))
		case t.After(at.Add(5 * time.Minute)):
			st.r.SigningTime = &t
			st.add("SIGNING_TIME", Warning, fmt.Sprintf("claimed signing time %s is after the validation time", t.UTC().Format(time.RFC3339)))
		default:
			st.r.SigningTime = &t
			st.add("SIGNING_TIME", Passed, t.UTC().Format(time.RFC3339))
		}
	} else if n > 1 {
		st.add("SIGNING_TIME", Failed, "signingTime attribute occurs more than once")
		st.outcome(TotalFailed, FormatFailure)
	} else if opts.Profile >= ProfileCAdESBES {
		st.add("SIGNING_TIME", Failed, "no signingTime attribute")
		st.outcome(TotalFailed, FormatFailure)
	} else {
		st.add("SIGNING_TIME", Warning, "no signingTime attribute")
	}

	var unknown []string
	for _, a := range si.SignedAttrs {
		known := false
		for _, k := range knownAttrs {
			known = known || a.Type.Equal(k)
		}
		if !known {
			unknown = append(unknown, a.Type.String())
		}
	}
	if len(unknown) > 0 {
		st.add("SIGNED_ATTRIBUTES", Warning, fmt.Sprintf("unknown signed attributes (not evaluated): %v", unknown))
	}
}

// checkESS checks the ESS signing-certificate attributes: signingCertificate
// (RFC 2634, ESSCertID with SHA-1) and signingCertificateV2 (RFC 5035,
// ESSCertIDv2 with any hash) are two attributes. RFC 5816 lets a TSA
// identify its certificate with either, and producers such as CryptoPro's
// TSA put both; each one present must occur once, with one value, and its
// first ESSCertID must identify the signer's certificate (RFC 5035 section
// 5.4: the first certificate identified is the signing certificate). Both are
// checked and reported, one SIGNING_CERTIFICATE_REF check each; a failure of
// either fails the signature, so a stronger v2 never hides a v1 that names
// another certificate (OpenSSL's OSSL_ESS_check_signing_certs also checks
// both when both are present).
func checkESS(st signerState, si *cms.SignerInfo, cert *certs.Certificate, opts Options) {
	v2, n2 := si.Attr(cms.OIDAttrSigningCertV2)
	v1, n1 := si.Attr(cms.OIDAttrSigningCertificate)
	if n1+n2 == 0 {
		if opts.Profile >= ProfileCAdESBES {
			st.add("SIGNING_CERTIFICATE_REF", Failed, "no signingCertificateV2 attribute: not CAdES-BES")
			st.outcome(TotalFailed, FormatFailure)
		} else {
			st.add("SIGNING_CERTIFICATE_REF", Warning, "no signingCertificateV2 attribute: a plain CMS signature, not CAdES-BES")
		}
		return
	}
	for _, a := range []struct {
		name  string
		vals  [][]byte
		n     int
		parse func([]byte) ([]cms.ESSCertIDv2, error)
	}{
		{"signingCertificateV2", v2, n2, cms.ParseSigningCertificateV2},
		{"signingCertificate", v1, n1, cms.ParseSigningCertificate},
	} {
		switch {
		case a.n == 0:
			continue
		case a.n > 1 || len(a.vals) != 1:
			st.add("SIGNING_CERTIFICATE_REF", Failed, a.name+" attribute occurs more than once")
			st.outcome(TotalFailed, FormatFailure)
			continue
		case cert == nil:
			st.add("SIGNING_CERTIFICATE_REF", NotChecked, a.name+": no signer certificate")
			continue
		}
		ids, err := a.parse(a.vals[0])
		if err != nil {
			st.add("SIGNING_CERTIFICATE_REF", Failed, a.name+": "+err.Error())
			st.outcome(TotalFailed, FormatFailure)
			continue
		}
		if msg := matchESS(ids[0], cert); msg != "" {
			st.add("SIGNING_CERTIFICATE_REF", Failed, a.name+": "+msg)
			st.outcome(Indeterminate, NoSigningCertificateFound)
		} else {
			st.add("SIGNING_CERTIFICATE_REF", Passed, a.name+" identifies the signer's certificate")
		}
	}
}

// matchESS compares an ESSCertID(v2) with the certificate.
func matchESS(id cms.ESSCertIDv2, cert *certs.Certificate) string {
	d, err := certs.DigestByOID(id.HashAlgorithm.Algorithm)
	if err != nil {
		return "signingCertificate uses an unknown hash: " + err.Error()
	}
	if !bytes.Equal(d.Sum(cert.Raw), id.CertHash) {
		return "the signingCertificate hash does not match the signer's certificate"
	}
	if is := id.IssuerSerial; is != nil {
		if !bytes.Equal(is.RawIssuer, cert.RawIssuer) || is.Serial.Cmp(cert.SerialNumber) != 0 {
			return "the signingCertificate issuerSerial does not match the signer's certificate"
		}
	}
	return ""
}

// checkAlgProtection compares CMSAlgorithmProtection with the SignerInfo.
func checkAlgProtection(vals [][]byte, n int, si *cms.SignerInfo) string {
	if n != 1 || len(vals) != 1 {
		return "CMSAlgorithmProtection occurs more than once"
	}
	var ap struct {
		DigestAlgorithm    pkix.AlgorithmIdentifier
		SignatureAlgorithm pkix.AlgorithmIdentifier `asn1:"optional,tag:1"`
		MACAlgorithm       pkix.AlgorithmIdentifier `asn1:"optional,tag:2"`
	}
	if rest, err := asn1.Unmarshal(vals[0], &ap); err != nil || len(rest) != 0 {
		return "malformed CMSAlgorithmProtection"
	}
	if !ap.DigestAlgorithm.Algorithm.Equal(si.DigestAlgorithm.Algorithm) {
		return "CMSAlgorithmProtection names another digest algorithm"
	}
	if !ap.SignatureAlgorithm.Algorithm.Equal(si.SignatureAlgorithm.Algorithm) {
		return "CMSAlgorithmProtection names another signature algorithm"
	}
	return ""
}
