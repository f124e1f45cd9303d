package login

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/verify"
)

// Refusal reasons: stable codes a relying party can act on (and show, see
// the package documentation).
const (
	ReasonNonceUnknown     = "NONCE_UNKNOWN"
	ReasonNonceExpired     = "NONCE_EXPIRED"
	ReasonOriginMismatch   = "ORIGIN_MISMATCH"
	ReasonClockSkew        = "CLOCK_SKEW"
	ReasonSignatureInvalid = "SIGNATURE_INVALID"
	ReasonCertExpired      = "CERT_EXPIRED"
	ReasonCertNotYetValid  = "CERT_NOT_YET_VALID"
	ReasonCertRevoked      = "CERT_REVOKED"
	ReasonChainUntrusted   = "CHAIN_UNTRUSTED"
	ReasonKeyUsage         = "KEY_USAGE"
	ReasonNotAccredited    = "ISSUER_NOT_ACCREDITED" // the CA was not accredited (Verifier.Accreditation)
	ReasonFormat           = "FORMAT"
	ReasonIndeterminate    = "INDETERMINATE"
)

// RefusalError is why a login was refused.
type RefusalError struct {
	Reason string `json:"reason"` // one of the Reason* codes
	// Indication and SubIndication are the DSS values of the signature's
	// validation when it (or the certificate chain) failed; empty otherwise.
	Indication    string `json:"indication,omitempty"`
	SubIndication string `json:"subIndication,omitempty"`
	Detail        string `json:"detail"`
	// Err is the underlying error, if any (ErrNonceReplayed …).
	Err error `json:"-"`
}

func (e *RefusalError) Error() string {
	s := "login refused: " + e.Reason
	if e.SubIndication != "" {
		s += " (" + e.Indication + "/" + e.SubIndication + ")"
	} else if e.Indication != "" {
		s += " (" + e.Indication + ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *RefusalError) Unwrap() error { return e.Err }

// Verifier checks login responses. Its zero value (with a Store) is strict:
// no trust anchors, so every response is refused with CHAIN_UNTRUSTED;
// skew DefaultMaxSkew; bound responses only.
type Verifier struct {
	// Store is where Issuer put the nonces (required).
	Store NonceStore
	// Roots are the trusted CAs; Intermediates further CA certificates.
	Roots, Intermediates []*certs.Certificate
	// CRLs are used offline for every certificate of the chain.
	CRLs []*certs.CRL
	// Revocation, when not nil, is asked (OCSP, CRL distribution points)
	// about every certificate of the chain the CRLs do not answer for,
	// hard-fail unless it says otherwise: certs/revocation.Checker is one.
	Revocation certs.RevocationChecker
	// Accreditation, when set, refuses (ISSUER_NOT_ACCREDITED) a login whose
	// certificate's CA was not accredited: certs/trustlist.List.
	Accreditation verify.AccreditationChecker
	// RequireRevocation refuses (INDETERMINATE) a login whose leaf neither
	// a CRL nor Revocation showed unrevoked. Without it such a login passes
	// with Identity.Revocation "not_checked".
	RequireRevocation bool
	// MaxSkew is the allowed difference between the signer's signingTime
	// (and clientTime) and Now (DefaultMaxSkew when zero).
	MaxSkew time.Duration
	// AllowESIACompatible accepts esia-compatible responses, whose signed
	// content does not name the origin.
	AllowESIACompatible bool
	// Now is the verifier's clock and the validation time (time.Now when nil).
	Now func() time.Time
}

// CertRef identifies the certificate a user logged in with.
type CertRef struct {
	Thumbprint string    `json:"thumbprint"` // SHA-1, upper-case hex
	Serial     string    `json:"serial"`     // lower-case hex
	Subject    string    `json:"subject"`
	Issuer     string    `json:"issuer"`
	NotBefore  time.Time `json:"notBefore"`
	NotAfter   time.Time `json:"notAfter"`
}

// Identity is who logged in.
type Identity struct {
	Surname      string `json:"surname,omitempty"`
	GivenName    string `json:"givenName,omitempty"` // имя и отчество
	CommonName   string `json:"commonName,omitempty"`
	Organization string `json:"organization,omitempty"`
	Title        string `json:"title,omitempty"`
	Email        string `json:"email,omitempty"`
	SNILS        string `json:"snils,omitempty"`
	INN          string `json:"inn,omitempty"`
	INNLE        string `json:"innLE,omitempty"`
	OGRN         string `json:"ogrn,omitempty"`
	OGRNIP       string `json:"ogrnip,omitempty"`

	Certificate CertRef   `json:"certificate"`
	Origin      string    `json:"origin"`
	Format      Format    `json:"format"`
	SigningTime time.Time `json:"signingTime"`
	// Revocation is "passed" when a CRL or the Verifier's Revocation showed the
	// certificate unrevoked, else "not_checked".
	Revocation string `json:"revocation"`
	// Qualified holds every qualified field of the certificate.
	Qualified *certs.Qualified `json:"qualified"`
}

// Verify checks a response to a challenge this relying party issued for
// origin (the origin the request came from). It returns the identity, or a
// *RefusalError; other errors are failures of the store or the context.
// The response's nonce is consumed whenever one can be read from it, even
// when the login is then refused: a response cannot be tried twice.
func (v *Verifier) Verify(ctx context.Context, origin string, response []byte) (*Identity, error) {
	if v.Store == nil {
		return nil, errors.New("login: Verifier.Store is nil")
	}
	now := nowFunc(v.Now)()
	maxSkew := v.MaxSkew
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	callerOrigin, err := NormalizeOrigin(origin)
	if err != nil {
		return nil, &RefusalError{Reason: ReasonOriginMismatch, Detail: err.Error()}
	}
	resp, err := ParseResponse(response)
	if err != nil {
		return nil, &RefusalError{Reason: ReasonFormat, Detail: err.Error(), Err: err}
	}
	if resp.Format == FormatESIACompatible && !v.AllowESIACompatible {
		return nil, &RefusalError{Reason: ReasonFormat, Detail: "esia-compatible responses are not accepted here"}
	}
	rep, err := verify.Verify(ctx, resp.CMS, verify.Options{Roots: v.Roots, Intermediates: v.Intermediates, CRLs: v.CRLs,
		Revocation: v.Revocation, Accreditation: v.Accreditation, RequireQualified: v.Accreditation != nil,
		At: now, Purpose: certs.PurposeLogin, Profile: verify.ProfileCAdESBES})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}

	// What is signed: the nonce (and the origin).
	var doc *BoundDocument
	var nonce string
	switch {
	case rep.Detached || rep.Content == nil:
		if len(rep.Signers) == 0 {
			return nil, reportRefusal(rep, ReasonFormat, "the CMS cannot be read")
		}
		return nil, reportRefusal(rep, ReasonFormat, "the signature is detached; a login signs its content attached")
	case resp.Format == FormatBound:
		d, err := ParseBoundDocument(rep.Content)
		if err != nil {
			return nil, &RefusalError{Reason: ReasonFormat, Detail: err.Error(), Err: err}
		}
		doc, nonce = &d, d.Nonce
	default:
		nonce = string(rep.Content)
		if err := checkNonce(nonce); err != nil {
			return nil, &RefusalError{Reason: ReasonFormat, Detail: "the signed challenge is not a nonce: " + err.Error(), Err: err}
		}
	}
	if rep.ContentType != "1.2.840.113549.1.7.1" {
		return nil, &RefusalError{Reason: ReasonFormat, Detail: "the signed content type is " + rep.ContentType + ", not id-data"}
	}

	// Consume the nonce before anything else can fail.
	issuedFor, expires, takeErr := v.Store.Take(ctx, nonce)

	if len(rep.Signers) != 1 {
		return nil, reportRefusal(rep, ReasonFormat, fmt.Sprintf("%d signers; a login has exactly one", len(rep.Signers)))
	}
	sr := &rep.Signers[0]
	if r := signatureRefusal(rep, sr); r != nil {
		return nil, r
	}

	switch {
	case errors.Is(takeErr, ErrNonceReplayed):
		return nil, &RefusalError{Reason: ReasonNonceUnknown, Detail: "replayed: the nonce was already used", Err: takeErr}
	case errors.Is(takeErr, ErrNonceUnknown):
		return nil, &RefusalError{Reason: ReasonNonceUnknown, Detail: "the nonce was not issued here, or is long gone", Err: takeErr}
	case takeErr != nil:
		return nil, takeErr
	case now.After(expires):
		return nil, &RefusalError{Reason: ReasonNonceExpired, Detail: fmt.Sprintf("the challenge expired at %s, %v ago", formatTime(expires), now.Sub(expires).Round(time.Second))}
	case issuedFor != callerOrigin:
		return nil, &RefusalError{Reason: ReasonOriginMismatch, Detail: fmt.Sprintf("the challenge was issued for %s, the response came to %s", issuedFor, callerOrigin)}
	case doc != nil && doc.Origin != callerOrigin:
		return nil, &RefusalError{Reason: ReasonOriginMismatch, Detail: fmt.Sprintf("the user signed a login to %s, the response came to %s", doc.Origin, callerOrigin)}
	}

	if sr.SigningTime == nil {
		return nil, &RefusalError{Reason: ReasonFormat, Detail: "no signingTime"}
	}
	if d := sr.SigningTime.Sub(now); d > maxSkew || d < -maxSkew {
		return nil, &RefusalError{Reason: ReasonClockSkew, Detail: fmt.Sprintf("signingTime %s is %v from the server's clock %s (allowed ±%v)", formatTime(*sr.SigningTime), d.Round(time.Second), formatTime(now), maxSkew)}
	}
	if doc != nil {
		_, ct, _ := doc.Times()
		if d := ct.Sub(now); d > maxSkew || d < -maxSkew {
			return nil, &RefusalError{Reason: ReasonClockSkew, Detail: fmt.Sprintf("clientTime %s is %v from the server's clock %s (allowed ±%v)", doc.ClientTime, d.Round(time.Second), formatTime(now), maxSkew)}
		}
	}

	if r := chainRefusal(rep, sr); r != nil {
		return nil, r
	}
	for _, c := range sr.Checks {
		if c.Code == "ISSUER_ACCREDITED" && c.Status == verify.Failed {
			return nil, &RefusalError{Reason: ReasonNotAccredited, Indication: sr.Indication, SubIndication: sr.SubIndication, Detail: c.Detail}
		}
	}
	if sr.Indication != verify.TotalPassed {
		return nil, reportRefusal(rep, reasonFor(sr.Indication), "the signature did not validate")
	}

	id := identity(sr)
	id.Origin, id.Format = callerOrigin, resp.Format
	id.Revocation = leafRevocation(sr.Chain)
	if id.Revocation != verify.Passed && v.RequireRevocation {
		return nil, &RefusalError{Reason: ReasonIndeterminate, Indication: verify.Indeterminate, SubIndication: certs.SubRevokedNoPOE, Detail: "the certificate's revocation status could not be checked"}
	}
	return id, nil
}

func reasonFor(indication string) string {
	if indication == verify.Indeterminate {
		return ReasonIndeterminate
	}
	return ReasonSignatureInvalid
}

// reportRefusal refuses with the report's (or its first signer's) DSS values.
func reportRefusal(rep *verify.Report, reason, detail string) *RefusalError {
	r := &RefusalError{Reason: reason, Indication: rep.Indication, SubIndication: rep.SubIndication, Detail: detail}
	if len(rep.Signers) > 0 && r.SubIndication == "" {
		r.Indication, r.SubIndication = rep.Signers[0].Indication, rep.Signers[0].SubIndication
	}
	var failed []string
	for _, c := range rep.Checks {
		if c.Status == verify.Failed {
			failed = append(failed, c.Code+": "+c.Detail)
		}
	}
	if len(rep.Signers) > 0 {
		for _, c := range rep.Signers[0].Checks {
			if c.Status == verify.Failed && c.Code != "CHAIN" {
				failed = append(failed, c.Code+": "+c.Detail)
			}
		}
	}
	if len(failed) > 0 {
		r.Detail += " (" + strings.Join(failed, "; ") + ")"
	}
	if r.Indication == verify.TotalPassed {
		r.Indication, r.SubIndication = "", ""
	}
	return r
}

// signatureRefusal refuses a signer whose signature, content or attributes
// failed (anything but the chain).
func signatureRefusal(rep *verify.Report, sr *verify.SignerReport) *RefusalError {
	for _, c := range sr.Checks {
		if c.Status != verify.Failed {
			continue
		}
		r := &RefusalError{Indication: sr.Indication, SubIndication: sr.SubIndication, Detail: strings.ToLower(c.Code) + ": " + c.Detail}
		switch c.Code {
		case "SIGNATURE", "MESSAGE_DIGEST", "ALGORITHM_PROTECTION":
			r.Reason = ReasonSignatureInvalid
			if sr.SubIndication == verify.CryptoConstraintsFailure {
				r.Detail = "unsupported algorithm: " + r.Detail
			}
		case "CHAIN", "ISSUER_ACCREDITED", "SIGNATURE_TIMESTAMP":
			continue // judged after the nonce and the chain
		default: // FORMAT, CONTENT, CONTENT_TYPE, SIGNER_CERTIFICATE, SIGNING_CERTIFICATE_REF, SIGNING_TIME, SIGNED_ATTRIBUTES
			r.Reason = ReasonFormat
		}
		if r.Indication == verify.TotalPassed {
			r.Indication, r.SubIndication = "", ""
		}
		return r
	}
	for _, c := range rep.Checks {
		if c.Status == verify.Failed {
			return &RefusalError{Reason: ReasonFormat, Indication: rep.Indication, SubIndication: rep.SubIndication, Detail: strings.ToLower(c.Code) + ": " + c.Detail}
		}
	}
	return nil
}

// chainRefusal maps a failed certificate path to its reason.
func chainRefusal(rep *verify.Report, sr *verify.SignerReport) *RefusalError {
	ch := sr.Chain
	if ch == nil {
		return &RefusalError{Reason: ReasonChainUntrusted, Indication: sr.Indication, SubIndication: sr.SubIndication, Detail: "no certificate path"}
	}
	if ch.Valid() {
		return nil
	}
	r := &RefusalError{Indication: ch.Indication, SubIndication: ch.SubIndication}
	var firstFailed *certs.Check
	for i := range ch.Checks {
		if ch.Checks[i].Status == certs.StatusFailed {
			firstFailed = &ch.Checks[i]
			break
		}
	}
	switch ch.SubIndication {
	case certs.SubNotYetValid:
		r.Reason = ReasonCertNotYetValid
	case certs.SubOutOfBoundsNoPOE, certs.SubOutOfBoundsNotRevoked:
		r.Reason = ReasonCertExpired
	case certs.SubRevokedNoPOE, certs.SubRevokedCANoPOE:
		r.Reason = ReasonCertRevoked
	case certs.SubChainConstraintsFailure:
		r.Reason = ReasonChainUntrusted
		for _, c := range leafChecks(ch) {
			if c.Code == certs.CheckKeyUsage && c.Status == certs.StatusFailed {
				r.Reason, firstFailed = ReasonKeyUsage, &c
				break
			}
		}
	case certs.SubCryptoConstraintsFailureNoPOE, certs.SubTryLater, certs.SubRevocationOutOfBoundsNoPOE:
		r.Reason = ReasonIndeterminate
	default: // NO_CERTIFICATE_CHAIN_FOUND, CERTIFICATE_CHAIN_GENERAL_FAILURE, SIG_CRYPTO_FAILURE
		r.Reason = ReasonChainUntrusted
	}
	// Prefer the failed check that matches the sub-indication.
	want := map[string]string{ReasonCertNotYetValid: certs.CheckValidity, ReasonCertExpired: certs.CheckValidity, ReasonCertRevoked: certs.CheckRevocation}[r.Reason]
	for i := range ch.Checks {
		if want != "" && ch.Checks[i].Code == want && ch.Checks[i].Status == certs.StatusFailed {
			firstFailed = &ch.Checks[i]
			break
		}
	}
	if firstFailed != nil {
		r.Detail = firstFailed.Subject + ": " + strings.ToLower(firstFailed.Code) + ": " + firstFailed.Detail
	} else {
		r.Detail = "certificate path: " + ch.Indication + "/" + ch.SubIndication
	}
	return r
}

// leafChecks returns the chain checks of the leaf (they come first).
func leafChecks(ch *certs.ChainResult) []certs.Check {
	if len(ch.Checks) == 0 {
		return nil
	}
	subj := ch.Checks[0].Subject
	var out []certs.Check
	for _, c := range ch.Checks {
		if c.Subject != subj {
			break
		}
		out = append(out, c)
	}
	return out
}

// leafRevocation is "passed" when a CRL showed the leaf unrevoked.
func leafRevocation(ch *certs.ChainResult) string {
	status := verify.NotChecked
	for _, c := range leafChecks(ch) {
		if c.Code == certs.CheckRevocation && (c.Status == certs.StatusPassed || c.Status == certs.StatusWarning && strings.HasPrefix(c.Detail, "revoked at")) {
			status = verify.Passed
		}
	}
	return status
}

func identity(sr *verify.SignerReport) *Identity {
	q := sr.Signer
	if q == nil {
		q = &certs.Qualified{}
	}
	id := &Identity{Surname: q.Surname, GivenName: q.GivenName, CommonName: q.CommonName, Organization: q.Organization,
		Title: q.Title, Email: q.Email, SNILS: q.SNILS, INN: q.INN, INNLE: q.INNLE, OGRN: q.OGRN, OGRNIP: q.OGRNIP, Qualified: q}
	if c := sr.Certificate; c != nil {
		id.Certificate = CertRef{Thumbprint: c.Thumbprint, Serial: q.Serial, Subject: c.Subject, Issuer: c.Issuer, NotBefore: c.NotBefore, NotAfter: c.NotAfter}
	}
	if sr.SigningTime != nil {
		id.SigningTime = sr.SigningTime.UTC()
	}
	return id
}
