package verify

// One signer: its certificate, signed attributes (contentType,
// messageDigest, ESS signing-certificate, CMSAlgorithmProtection,
// signingTime), signature, algorithm constraints, chain and accreditation.

import (
	"bytes"
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/internal/cms"
)

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
	if len(lt.crls) > 0 || len(lt.ocsps) > 0 {
		// The revocation values answer first, offline, for the signer's
		// chain and the TSAs' (revocation.Offline: fresh for the time
		// being proven, never issued after the validation time).
		opts.Revocation = evidenceFirst{off: &revocation.Offline{OCSP: lt.ocsps, CRLs: lt.crls, Latest: at}, online: opts.Revocation}
	}

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
	// The later time-stamps first: the CAdES-C time-stamp covers the
	// signature time-stamp's token, so a valid one is a proof of existence
	// for it (timestamp.go).
	claimsLongTerm := lt.hasCertRefs || lt.hasRevRefs || lt.hasCertVals || lt.hasRevVals || lt.hasEsc || lt.hasRefsTS
	esc := checkEscTimestamp(ctx, st, si, embedded, opts, at)
	x2 := checkRefsTimestamp(ctx, st, si, embedded, opts, at)
	r.Timestamp = checkTimestamp(ctx, st, si, embedded, opts, at, opts.Profile >= ProfileCAdEST || claimsLongTerm, passed(esc))
	content := checkContentTimestamp(ctx, st, si, digests, embedded, opts, at, passed(r.Timestamp))
	checkTimestampOrder(st, content, r.Timestamp, esc, x2)
	for _, ts := range []*Timestamp{content, r.Timestamp, esc, x2} {
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
	r.Level = level(&r, si, lt, esc, x2)
	if opts.Profile >= ProfileXL {
		if r.Level == LevelXL1 || r.Level == LevelXL2 {
			st.add("LEVEL", Passed, "CAdES-"+r.Level)
		} else {
			st.add("LEVEL", Failed, "CAdES-X Long required, the signature reaches "+r.Level)
			st.outcome(Indeterminate, SigConstraintsFailure)
		}
	}
	if r.Indication == "" {
		r.Indication = TotalPassed
	}
	r.Qualified = r.Qualified && r.Indication == TotalPassed
	return r
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
	OIDAttrContentTimestamp,
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
