package revocation

// Offline revocation evidence: OCSP responses and CRLs carried inside a
// signature (the revocation-values of CAdES-X Long, ETSI TS 101 733 6.3.4)
// or kept from earlier, checked without network.
//
// Freshness follows ETSI EN 319 102-1 clause 5.2.5 (revocation freshness
// checker): revocation data is fresh for a time T when it was issued after
// T minus the maximum accepted freshness, and, without a constraint, that
// maximum is the data's own nextUpdate − thisUpdate. So data is usable for
// T when T is not after its nextUpdate (or, without nextUpdate, not later
// than Policy.MaxAge after thisUpdate). Data issued after T is fresh for T:
// that is how a CAdES-X Long signature proves, long after the fact, that the
// signer's certificate was not revoked at the signature time-stamp's time
// (the proof of existence). Data can never come from after the moment of
// verification itself (Offline.Latest).
//
// A delegated OCSP responder's own certificate is not checked for
// revocation (RFC 6960 4.2.2.2.1: CAs mark such certificates
// id-pkix-ocsp-nocheck); it must be issued by the certificate's issuer for
// OCSPSigning and valid at producedAt.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
)

// Errors of offline OCSP checks.
var (
	// ErrNotForCertificate: the response has no SingleResponse whose CertID
	// is the certificate's (hash algorithm, issuer name and key, serial).
	ErrNotForCertificate = errors.New("revocation: the OCSP response is not about this certificate")
	// ErrNotAuthorised: neither the issuer nor a delegated responder the
	// issuer certified for OCSPSigning signed the response.
	ErrNotAuthorised = errors.New("revocation: the OCSP responder is not authorised")
	// ErrBadSignature: the response's signature does not verify.
	ErrBadSignature = errors.New("revocation: the OCSP response signature is invalid")
	// ErrNotFresh: the data does not cover the time being proven, or was
	// issued after the moment of verification.
	ErrNotFresh = errors.New("revocation: the revocation data is not fresh for the time")
	// ErrMalformedOCSP: the response does not parse.
	ErrMalformedOCSP = errors.New("revocation: malformed OCSP response")
)

// OCSPInfo is what a CAdES complete-revocation-references entry needs of an
// OCSP response (ETSI TS 101 733 6.2.2: OcspIdentifier).
type OCSPInfo struct {
	// Basic is the BasicOCSPResponse, as received: the value CAdES puts
	// into ocspVals.
	Basic []byte
	// ResponderID is the ResponderID element (byName [1] or byKey [2]) as
	// received.
	ResponderID []byte
	ProducedAt  time.Time
}

// ParseOCSPInfo reads an OCSPResponse or a BasicOCSPResponse.
func ParseOCSPInfo(der []byte) (*OCSPInfo, error) {
	r, err := parseAnyOCSP(der)
	if err != nil {
		return nil, err
	}
	return &OCSPInfo{Basic: r.basicDER, ResponderID: r.responderID, ProducedAt: r.producedAt}, nil
}

// parseAnyOCSP parses an OCSPResponse (it starts with the ENUMERATED
// responseStatus) or a bare BasicOCSPResponse (it starts with the
// tbsResponseData SEQUENCE).
func parseAnyOCSP(der []byte) (*ocspResponse, error) {
	s := cryptobyte.String(der)
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, ErrMalformedOCSP
	}
	var r *ocspResponse
	var err error
	if body.PeekASN1Tag(cbasn1.ENUM) {
		r, err = parseOCSPResponse(der)
	} else {
		r, err = parseBasicOCSP(der)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedOCSP, err)
	}
	return r, nil
}

// CheckOCSP checks, without network, an OCSP response (an OCSPResponse or a
// BasicOCSPResponse) as evidence of the status of cert, issued by issuer, at
// time at: a SingleResponse with cert's CertID (whatever hash the responder
// used), signed by the issuer or by a delegated responder the issuer
// certified for OCSPSigning and valid when it signed (producedAt), the
// signature verified (GOST included), and the data fresh for at (see the
// file comment) and not produced after latest (the moment of verification;
// zero means time.Now). No nonce is expected: the request is long gone.
//
// A response that can be used gives a Status (Good, Revoked or Unknown); one
// that cannot gives an error wrapping one of the Err values above.
func CheckOCSP(der []byte, cert, issuer *certs.Certificate, at, latest time.Time, p Policy) (*Status, error) {
	r, err := parseAnyOCSP(der)
	if err != nil {
		return nil, err
	}
	return checkOCSP(r, der, cert, issuer, at, latest, p, nil)
}

// ocspItem is a parsed OCSP response of an Offline, with the outcome of
// its responder and signature checks by issuer (they do not depend on the
// certificate asked about or the time).
type ocspItem struct {
	der  []byte
	r    *ocspResponse
	err  error
	auth map[string]authResult
}

type authResult struct {
	signer *certs.Certificate
	err    error
}

// authorise returns the certificate that signed r for issuer, once it has
// checked that it may (issuer, or a delegated OCSPSigning responder valid
// at producedAt) and that the signature verifies.
func authorise(r *ocspResponse, issuer *certs.Certificate, p Policy) (*certs.Certificate, error) {
	// The responder is judged at producedAt: when it signed.
	signer, err := (&Checker{Policy: p}).ocspSigner(r, issuer, r.producedAt)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAuthorised, err)
	}
	if signer.PublicKey == nil {
		return nil, fmt.Errorf("%w: the responder's key algorithm %s", ErrBadSignature, signer.KeyAlgorithm)
	}
	if err := certs.VerifyMessage(signer.PublicKey, r.sigAlg, r.tbs, r.signature); err != nil {
		return nil, fmt.Errorf("%w: signed by %q: %v", ErrBadSignature, signer.SubjectString(), err)
	}
	return signer, nil
}

// checkOCSP is CheckOCSP on a parsed response; item, when set, keeps the
// authorisation outcome per issuer.
func checkOCSP(r *ocspResponse, der []byte, cert, issuer *certs.Certificate, at, latest time.Time, p Policy, item *ocspItem) (*Status, error) {
	if latest.IsZero() {
		latest = time.Now()
	}
	var single *singleResponse
	for i := range r.responses {
		d, err := certs.DigestByOID(r.responses[i].id.hashAlg)
		if err != nil {
			continue
		}
		id, err := newCertID(d, cert, issuer)
		if err == nil && r.responses[i].id.equal(id) {
			single = &r.responses[i]
			break
		}
	}
	if single == nil {
		return nil, fmt.Errorf("%w (serial %X)", ErrNotForCertificate, cert.SerialNumber)
	}
	var signer *certs.Certificate
	var err error
	if a, ok := item.cached(issuer); ok {
		signer, err = a.signer, a.err
	} else {
		signer, err = authorise(r, issuer, p)
		item.keep(issuer, authResult{signer, err})
	}
	if err != nil {
		return nil, err
	}
	if err := fresh(p, at, latest, single.thisUpdate, single.nextUpdate); err != nil {
		return nil, err
	}
	if r.producedAt.After(latest.Add(p.skew())) {
		return nil, fmt.Errorf("%w: producedAt %s is after the verification time %s", ErrNotFresh, r.producedAt.UTC().Format(timeLayout), latest.UTC().Format(timeLayout))
	}
	by := "the CA"
	if signer != issuer {
		by = "delegated responder " + signer.SubjectString()
	}
	st := &Status{Source: SourceOCSP, ThisUpdate: single.thisUpdate, NextUpdate: single.nextUpdate, ProducedAt: r.producedAt, Data: [][]byte{der}}
	when := fmt.Sprintf("the OCSP response of %s signed by %s", single.thisUpdate.UTC().Format(timeLayout), by)
	switch {
	case single.status == Good:
		st.State, st.Detail = Good, "good according to "+when
	case single.status == Revoked && single.revokedAt.After(at):
		st.State = Good
		st.Detail = fmt.Sprintf("revoked only at %s, after %s, according to %s", single.revokedAt.UTC().Format(timeLayout), at.UTC().Format(timeLayout), when)
	case single.status == Revoked:
		st.State, st.SubIndication = Revoked, SubRevokedNoPOE
		st.RevokedAt, st.Reason = single.revokedAt, reasonName(single.reason)
		st.Detail = fmt.Sprintf("revoked at %s (%s) according to %s", single.revokedAt.UTC().Format(timeLayout), st.Reason, when)
	default:
		st.State, st.SubIndication = Unknown, SubRevokedNoPOE
		st.Detail = "unknown to the responder according to " + when
	}
	return st, nil
}

// fresh applies the freshness rule of the file comment.
func fresh(p Policy, at, latest, thisUpdate, nextUpdate time.Time) error {
	skew := p.skew()
	switch {
	case thisUpdate.IsZero():
		return fmt.Errorf("%w: no thisUpdate", ErrNotFresh)
	case thisUpdate.After(latest.Add(skew)):
		return fmt.Errorf("%w: thisUpdate %s is after the verification time %s", ErrNotFresh, thisUpdate.UTC().Format(timeLayout), latest.UTC().Format(timeLayout))
	case !nextUpdate.IsZero() && at.After(nextUpdate.Add(skew)):
		return fmt.Errorf("%w: nextUpdate %s is before %s", ErrNotFresh, nextUpdate.UTC().Format(timeLayout), at.UTC().Format(timeLayout))
	case nextUpdate.IsZero() && at.Sub(thisUpdate) > p.maxAge():
		return fmt.Errorf("%w: no nextUpdate and thisUpdate %s is older than %s at %s", ErrNotFresh, thisUpdate.UTC().Format(timeLayout), p.maxAge(), at.UTC().Format(timeLayout))
	}
	return nil
}

// CheckCRL checks, without network, a CRL as evidence of the status of
// cert, issued by issuer, at time at: issuer signed it, it is fresh for at
// and not issued after latest (zero: time.Now). A delta CRL is refused (it
// needs its base).
func CheckCRL(crl *certs.CRL, cert, issuer *certs.Certificate, at, latest time.Time, p Policy) (*Status, error) {
	if latest.IsZero() {
		latest = time.Now()
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, err
	}
	if findExtension(crl.Extensions, oidDeltaCRLIndicator) != nil {
		return nil, errors.New("revocation: a delta CRL without its base")
	}
	if err := fresh(p, at, latest, crl.ThisUpdate, crl.NextUpdate); err != nil {
		return nil, err
	}
	st := &Status{Source: SourceCRL, ThisUpdate: crl.ThisUpdate, NextUpdate: crl.NextUpdate, Data: [][]byte{crl.Raw}}
	of := "the CRL of " + crl.ThisUpdate.UTC().Format(timeLayout)
	entry, revoked := crl.Revoked(cert.SerialNumber)
	switch {
	case revoked && !entry.RevocationTime.After(at):
		st.State, st.SubIndication = Revoked, SubRevokedNoPOE
		st.RevokedAt, st.Reason = entry.RevocationTime, reasonName(entry.ReasonCode)
		st.Detail = fmt.Sprintf("revoked at %s (%s) according to %s", entry.RevocationTime.UTC().Format(timeLayout), st.Reason, of)
	case revoked:
		st.State = Good
		st.Detail = fmt.Sprintf("revoked only at %s, after %s, according to %s", entry.RevocationTime.UTC().Format(timeLayout), at.UTC().Format(timeLayout), of)
	default:
		st.State, st.Detail = Good, "not on "+of
	}
	return st, nil
}

func (it *ocspItem) cached(issuer *certs.Certificate) (authResult, bool) {
	if it == nil {
		return authResult{}, false
	}
	a, ok := it.auth[string(issuer.Raw)]
	return a, ok
}

func (it *ocspItem) keep(issuer *certs.Certificate, a authResult) {
	if it != nil {
		it.auth[string(issuer.Raw)] = a
	}
}

// Offline is a certs.RevocationChecker over revocation evidence at hand,
// with no network: the OCSP responses (OCSPResponse or BasicOCSPResponse
// DER) and CRLs a signature carries. For each question it uses the first
// item that answers (a revoked or unknown status beats a good one: every
// usable item is looked at); none gives Indeterminate with TRY_LATER and
// why each item did not do.
type Offline struct {
	OCSP [][]byte
	CRLs []*certs.CRL
	// Latest is the moment of verification: no evidence may be issued after
	// it. Zero means time.Now.
	Latest time.Time
	// Policy gives the skew and the age of data without nextUpdate (its
	// Mode, SoftFail and network settings are not used).
	Policy Policy

	// The responses parsed once, with their authorisation outcomes: an
	// Offline answers many questions (every link of every chain).
	mu    sync.Mutex
	items []*ocspItem
}

// CheckRevocation implements certs.RevocationChecker: the status of c at
// time at (the validation time, or a proof-of-existence time).
func (o *Offline) CheckRevocation(_ context.Context, c, issuer *certs.Certificate, at time.Time) (*certs.RevocationStatus, error) {
	st := o.Check(c, issuer, at)
	return &certs.RevocationStatus{State: st.State, Source: st.Source, RevokedAt: st.RevokedAt, Reason: st.Reason,
		ThisUpdate: st.ThisUpdate, ProducedAt: st.ProducedAt, Detail: st.Detail, SubIndication: st.SubIndication}, nil
}

// Check returns the status of c, issued by issuer, at time at.
func (o *Offline) Check(c, issuer *certs.Certificate, at time.Time) *Status {
	var good *Status
	var why []string
	consider := func(st *Status) *Status {
		if st.State != Good {
			return st
		}
		if good == nil {
			good = st
		}
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.items == nil {
		for _, der := range o.OCSP {
			r, err := parseAnyOCSP(der)
			o.items = append(o.items, &ocspItem{der: der, r: r, err: err, auth: map[string]authResult{}})
		}
	}
	for _, it := range o.items {
		if it.err != nil {
			why = append(why, "ocsp: "+it.err.Error())
			continue
		}
		st, err := checkOCSP(it.r, it.der, c, issuer, at, o.Latest, o.Policy, it)
		if err != nil {
			if !errors.Is(err, ErrNotForCertificate) {
				why = append(why, "ocsp: "+err.Error())
			}
			continue
		}
		if bad := consider(st); bad != nil {
			return bad
		}
	}
	for _, l := range o.CRLs {
		if l == nil || l.RevocationList == nil || !bytes.Equal(l.RawIssuer, c.RawIssuer) {
			continue
		}
		st, err := CheckCRL(l, c, issuer, at, o.Latest, o.Policy)
		if err != nil {
			why = append(why, "crl: "+err.Error())
			continue
		}
		if bad := consider(st); bad != nil {
			return bad
		}
	}
	if good != nil {
		good.Detail += " (embedded evidence)"
		return good
	}
	detail := "no embedded OCSP response or CRL covers the certificate"
	if len(why) > 0 {
		detail += ": " + strings.Join(why, "; ")
	}
	return &Status{State: Indeterminate, SubIndication: SubTryLater, Detail: detail}
}

// RevocationData returns the revocation data, as received, that shows cert
// (issued by issuer) not revoked now: an OCSP response or a CRL (with its
// delta CRL), for embedding into a CAdES-X Long signature (sign.Options'
// Revocation). A revoked or unknown certificate, a soft-fail answer and no
// answer are errors.
func (c *Checker) RevocationData(ctx context.Context, cert, issuer *certs.Certificate) ([][]byte, error) {
	st, err := c.Check(ctx, cert, issuer)
	switch {
	case err != nil:
		return nil, err
	case st.State != Good:
		return nil, fmt.Errorf("revocation: %q is %s: %s", cert.SubjectString(), st.State, st.Detail)
	case st.SoftFail || len(st.Data) == 0:
		return nil, fmt.Errorf("revocation: no revocation data for %q: %s", cert.SubjectString(), st.Detail)
	}
	return st.Data, nil
}
