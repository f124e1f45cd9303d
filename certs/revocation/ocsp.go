package revocation

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
)

var (
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
)

// checkOCSP asks the certificate's OCSP responders, with a SHA-1 CertID and,
// for a GOST issuer, a Streebog-256 one when the first gives no definite
// answer.
func (c *Checker) checkOCSP(ctx context.Context, cert, issuer *certs.Certificate, now time.Time) (*Status, *failure) {
	urls := httpOnly(cert.OCSPServer)
	if len(urls) == 0 {
		return nil, fail(unavailable, SourceOCSP, "", "the certificate names no HTTP OCSP responder")
	}
	digests := []*certs.Digest{certs.SHA1}
	if _, ok := issuer.PublicKey.(*gost3410.PublicKey); ok {
		digests = append(digests, certs.Streebog256)
	}
	var notes []string
	var worst *failure
	var unknown *Status
	for _, u := range urls {
		for _, d := range digests {
			st, f := c.queryOCSP(ctx, u, d, cert, issuer, now)
			if f == nil && st.State != Unknown {
				st.Warnings = notes
				return st, nil
			}
			if f == nil {
				unknown = st
				continue
			}
			notes = append(notes, f.Error())
			if worst == nil || worst.kind == unavailable && f.kind != unavailable {
				worst = f
			}
			if f.kind == unavailable {
				break // the responder is down: no other CertID will do better
			}
		}
	}
	if unknown != nil {
		unknown.Warnings = notes
		return unknown, nil
	}
	return nil, worst
}

// queryOCSP asks responder u about cert with a CertID hashed with d (or,
// in replay mode, reads the recorded answer) and checks the response.
func (c *Checker) queryOCSP(ctx context.Context, u string, d *certs.Digest, cert, issuer *certs.Certificate, now time.Time) (*Status, *failure) {
	id, err := newCertID(d, cert, issuer)
	if err != nil {
		return nil, fail(invalid, SourceOCSP, u, "%v", err)
	}
	idDER := id.marshal()
	var nonce, body []byte
	if ev := c.Evidence; ev != nil && ev.Replay {
		data, meta, err := ev.read(SourceOCSP, u, idDER)
		if err != nil {
			return nil, fail(unavailable, SourceOCSP, u, "%v", err)
		}
		if nonce, err = hex.DecodeString(meta.Nonce); err != nil {
			return nil, fail(invalid, SourceOCSP, u, "evidence: malformed nonce")
		}
		body = data
	} else {
		n := make([]byte, 16)
		rand.Read(n)
		nonce = octetString(n)
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(buildOCSPRequest(idDER, nonce)))
		if err != nil {
			return nil, fail(invalid, SourceOCSP, u, "%v", err)
		}
		req.Header.Set("Content-Type", "application/ocsp-request")
		req.Header.Set("Accept", "application/ocsp-response")
		resp, b, err := c.do(ctx, req, maxOCSPResponseSize)
		switch {
		case errors.Is(err, errTooLarge):
			return nil, fail(invalid, SourceOCSP, u, "%v", err)
		case err != nil:
			return nil, fail(unavailable, SourceOCSP, u, "%v", err)
		case resp.StatusCode != http.StatusOK:
			return nil, fail(unavailable, SourceOCSP, u, "HTTP %s", resp.Status)
		}
		body = b
	}
	st, f := c.acceptOCSP(u, body, id, nonce, issuer, now)
	if f != nil {
		return nil, f
	}
	st.Detail += " (CertID hashed with " + d.Name + ")"
	st.Data = [][]byte{body}
	if ev := c.Evidence; ev != nil && !ev.Replay {
		if err := ev.write(SourceOCSP, u, idDER, body, evidenceMeta{Fetched: now, Nonce: hex.EncodeToString(nonce)}); err != nil {
			return nil, fail(invalid, SourceOCSP, u, "%v", err)
		}
	}
	return st, nil
}

// acceptOCSP checks an OCSP response to the request for id with the nonce
// extension value nonce, and turns it into a Status.
func (c *Checker) acceptOCSP(u string, der []byte, id *certID, nonce []byte, issuer *certs.Certificate, now time.Time) (*Status, *failure) {
	r, err := parseOCSPResponse(der)
	if err != nil {
		var se responseStatusError
		if errors.As(err, &se) && (se == statusTryLater || se == statusInternalError) {
			return nil, fail(unavailable, SourceOCSP, u, "%v", err)
		}
		return nil, fail(invalid, SourceOCSP, u, "%v", err)
	}
	signer, err := c.ocspSigner(r, issuer, now)
	if err != nil {
		return nil, fail(invalid, SourceOCSP, u, "responder not authorised: %v", err)
	}
	if signer.PublicKey == nil {
		return nil, fail(invalid, SourceOCSP, u, "cannot verify: the responder's key algorithm %s", signer.KeyAlgorithm)
	}
	if err := certs.VerifyMessage(signer.PublicKey, r.sigAlg, r.tbs, r.signature); err != nil {
		return nil, fail(invalid, SourceOCSP, u, "response signature by %q: %v", signer.SubjectString(), err)
	}
	var single *singleResponse
	for i := range r.responses {
		if r.responses[i].id.equal(id) {
			single = &r.responses[i]
			break
		}
	}
	if single == nil {
		var got []string
		for _, s := range r.responses {
			got = append(got, fmt.Sprintf("serial %X (%v)", s.id.serial, s.id.hashAlg))
		}
		return nil, fail(invalid, SourceOCSP, u, "no response for the certificate's CertID (serial %X, %s); the response is about %v", id.serial, id.hashName, got)
	}
	switch {
	case r.nonce != nil && !bytes.Equal(r.nonce, nonce):
		return nil, fail(invalid, SourceOCSP, u, "the response's nonce is not the request's")
	case r.nonce == nil && c.Policy.RequireNonce:
		return nil, fail(invalid, SourceOCSP, u, "the response does not echo the request's nonce")
	case r.producedAt.After(now.Add(c.Policy.skew())):
		return nil, fail(outOfBounds, SourceOCSP, u, "producedAt %s is after the validation time %s", r.producedAt.UTC().Format(timeLayout), now.UTC().Format(timeLayout))
	}
	if f := c.checkTimes(SourceOCSP, u, now, single.thisUpdate, single.nextUpdate); f != nil {
		return nil, f
	}
	st := &Status{Source: SourceOCSP, URL: u, ThisUpdate: single.thisUpdate, NextUpdate: single.nextUpdate, ProducedAt: r.producedAt}
	by := "the CA"
	if signer != issuer {
		by = "delegated responder " + signer.SubjectString()
	}
	switch {
	case single.status == Good:
		st.State = Good
		st.Detail = fmt.Sprintf("good according to the OCSP response of %s signed by %s", single.thisUpdate.UTC().Format(timeLayout), by)
	case single.status == Revoked && single.revokedAt.After(now):
		st.State = Good
		st.Detail = fmt.Sprintf("revoked only at %s, after the validation time, according to the OCSP response signed by %s", single.revokedAt.UTC().Format(timeLayout), by)
	case single.status == Revoked:
		st.State, st.SubIndication = Revoked, SubRevokedNoPOE
		st.RevokedAt, st.Reason = single.revokedAt, reasonName(single.reason)
		st.Detail = fmt.Sprintf("revoked at %s (%s) according to the OCSP response signed by %s", single.revokedAt.UTC().Format(timeLayout), st.Reason, by)
	default:
		st.State, st.SubIndication = Unknown, SubRevokedNoPOE
		st.Detail = "the OCSP responder (signed by " + by + ") does not know the certificate"
	}
	return st, nil
}

// ocspSigner returns the certificate whose key must have signed r: the
// issuer itself, or a certificate in the response that the issuer issued for
// OCSPSigning and that is valid at now.
func (c *Checker) ocspSigner(r *ocspResponse, issuer *certs.Certificate, now time.Time) (*certs.Certificate, error) {
	if r.responderIs(issuer) {
		return issuer, nil
	}
	// A delegated responder must be valid at the validation time, and at
	// producedAt when that is later (the response is then refused as
	// issued after the validation time, not for the responder).
	at, skew := now, c.Policy.skew()
	if r.producedAt.After(at) {
		at = r.producedAt
	}
	for _, rc := range r.certs {
		if !r.responderIs(rc) {
			continue
		}
		switch {
		case !bytes.Equal(rc.RawIssuer, issuer.RawSubject):
			return nil, fmt.Errorf("the responder %q was not issued by %q", rc.SubjectString(), issuer.SubjectString())
		case rc.CheckSignatureFrom(issuer) != nil:
			return nil, fmt.Errorf("the responder certificate %q: %v", rc.SubjectString(), rc.CheckSignatureFrom(issuer))
		case !slices.Contains(rc.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning):
			return nil, fmt.Errorf("the responder certificate %q lacks the extended key usage OCSPSigning", rc.SubjectString())
		case at.Add(skew).Before(rc.NotBefore) || at.Add(-skew).After(rc.NotAfter):
			return nil, fmt.Errorf("the responder certificate %q is not valid at %s", rc.SubjectString(), at.UTC().Format(timeLayout))
		}
		return rc, nil
	}
	return nil, errors.New("the responder is neither the issuer nor a certificate included in the response")
}

// certID is an OCSP CertID (RFC 6960 4.1.1).
type certID struct {
	hashAlg           asn1.ObjectIdentifier
	hashName          string
	nameHash, keyHash []byte
	serial            *big.Int
}

func newCertID(d *certs.Digest, cert, issuer *certs.Certificate) (*certID, error) {
	key, err := publicKeyBits(issuer.RawSubjectPublicKeyInfo)
	if err != nil {
		return nil, err
	}
	return &certID{hashAlg: d.OID, hashName: d.Name, nameHash: d.Sum(issuer.RawSubject), keyHash: d.Sum(key), serial: cert.SerialNumber}, nil
}

func (id *certID) equal(o *certID) bool {
	return id.hashAlg.Equal(o.hashAlg) && bytes.Equal(id.nameHash, o.nameHash) &&
		bytes.Equal(id.keyHash, o.keyHash) && id.serial.Cmp(o.serial) == 0
}

// marshal returns the DER CertID; the hash algorithm has NULL parameters,
// as OpenSSL writes them for every digest.
func (id *certID) marshal() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(id.hashAlg)
			b.AddASN1NULL()
		})
		b.AddASN1OctetString(id.nameHash)
		b.AddASN1OctetString(id.keyHash)
		b.AddASN1BigInt(id.serial)
	})
	return b.BytesOrPanic()
}

func readCertID(s *cryptobyte.String) (*certID, bool) {
	var seq, alg cryptobyte.String
	id := &certID{serial: new(big.Int)}
	ok := s.ReadASN1(&seq, cbasn1.SEQUENCE) &&
		seq.ReadASN1(&alg, cbasn1.SEQUENCE) && alg.ReadASN1ObjectIdentifier(&id.hashAlg) &&
		seq.ReadASN1Bytes(&id.nameHash, cbasn1.OCTET_STRING) &&
		seq.ReadASN1Bytes(&id.keyHash, cbasn1.OCTET_STRING) &&
		seq.ReadASN1Integer(id.serial) && seq.Empty()
	return id, ok
}

// publicKeyBits returns the subjectPublicKey BIT STRING's bytes of a
// SubjectPublicKeyInfo, which CertID's issuerKeyHash and the responder's
// byKey hash.
func publicKeyBits(spki []byte) ([]byte, error) {
	s := cryptobyte.String(spki)
	var in cryptobyte.String
	var bits asn1.BitString
	if !s.ReadASN1(&in, cbasn1.SEQUENCE) || !in.SkipASN1(cbasn1.SEQUENCE) || !in.ReadASN1BitString(&bits) {
		return nil, errors.New("malformed SubjectPublicKeyInfo")
	}
	return bits.Bytes, nil
}

func octetString(b []byte) []byte {
	var bb cryptobyte.Builder
	bb.AddASN1OctetString(b)
	return bb.BytesOrPanic()
}

// buildOCSPRequest returns an unsigned OCSPRequest for one CertID with a
// nonce extension whose value is nonce (RFC 8954: an OCTET STRING), or
// without one when nonce is nil.
func buildOCSPRequest(certIDDER, nonce []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OCSPRequest
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TBSRequest
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // requestList
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // Request
					b.AddBytes(certIDDER)
				})
			})
			if nonce == nil {
				return
			}
			b.AddASN1(tagExplicit2, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // Extensions
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidOCSPNonce)
						b.AddASN1OctetString(nonce)
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// responseStatusError is an OCSPResponseStatus other than successful.
type responseStatusError int

const (
	statusInternalError responseStatusError = 2
	statusTryLater      responseStatusError = 3
)

func (e responseStatusError) Error() string {
	names := map[responseStatusError]string{1: "malformedRequest", 2: "internalError", 3: "tryLater", 5: "sigRequired", 6: "unauthorized"}
	if n, ok := names[e]; ok {
		return "the responder answered " + n
	}
	return fmt.Sprintf("the responder answered with status %d", int(e))
}

// ocspResponse is a parsed BasicOCSPResponse.
type ocspResponse struct {
	tbs           []byte // tbsResponseData, as signed
	sigAlg        pkix.AlgorithmIdentifier
	signature     []byte
	certs         []*certs.Certificate
	responderName []byte // raw Name when the responder is identified byName
	responderKey  []byte // SHA-1 of its key when byKey
	producedAt    time.Time
	responses     []singleResponse
	nonce         []byte // the nonce extension's value, nil when absent
	basicDER      []byte // the BasicOCSPResponse as received
	responderID   []byte // the ResponderID element as received
}

type singleResponse struct {
	id         *certID
	status     string // Good, Revoked or Unknown
	revokedAt  time.Time
	reason     int // -1 when absent
	thisUpdate time.Time
	nextUpdate time.Time
}

func (r *ocspResponse) responderIs(c *certs.Certificate) bool {
	if r.responderName != nil {
		return bytes.Equal(r.responderName, c.RawSubject)
	}
	key, err := publicKeyBits(c.RawSubjectPublicKeyInfo)
	if err != nil {
		return false
	}
	sum := sha1.Sum(key)
	return bytes.Equal(r.responderKey, sum[:])
}

var (
	tagExplicit0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagExplicit1 = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagExplicit2 = cbasn1.Tag(2).Constructed().ContextSpecific()
)

// parseOCSPResponse parses an OCSPResponse (RFC 6960 4.2.1) whose response
// is a BasicOCSPResponse.
func parseOCSPResponse(der []byte) (*ocspResponse, error) {
	errMalformed := errors.New("malformed OCSP response")
	s := cryptobyte.String(der)
	var resp, rb, rbs, basicDER cryptobyte.String
	var status int
	if !s.ReadASN1(&resp, cbasn1.SEQUENCE) || !s.Empty() || !resp.ReadASN1Enum(&status) {
		return nil, errMalformed
	}
	if status != 0 {
		return nil, responseStatusError(status)
	}
	var typ asn1.ObjectIdentifier
	if !resp.ReadASN1(&rb, tagExplicit0) || !resp.Empty() || !rb.ReadASN1(&rbs, cbasn1.SEQUENCE) ||
		!rbs.ReadASN1ObjectIdentifier(&typ) || !rbs.ReadASN1(&basicDER, cbasn1.OCTET_STRING) || !rbs.Empty() {
		return nil, errMalformed
	}
	if !typ.Equal(oidOCSPBasic) {
		return nil, fmt.Errorf("OCSP response type %v, want basic", typ)
	}
	return parseBasicOCSP(basicDER)
}

// parseBasicOCSP parses a BasicOCSPResponse (RFC 6960 4.2.1), the form
// CAdES revocation-values keep (ETSI TS 101 733 6.3.4: ocspVals).
func parseBasicOCSP(basicDER cryptobyte.String) (*ocspResponse, error) {
	errMalformed := errors.New("malformed OCSP response")
	r := &ocspResponse{basicDER: basicDER}
	var basic, tbsElem, algElem, certsField cryptobyte.String
	var sig asn1.BitString
	var hasCerts bool
	if !basicDER.ReadASN1(&basic, cbasn1.SEQUENCE) || !basicDER.Empty() ||
		!basic.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) || !basic.ReadASN1Element(&algElem, cbasn1.SEQUENCE) ||
		!basic.ReadASN1BitString(&sig) || sig.BitLength%8 != 0 ||
		!basic.ReadOptionalASN1(&certsField, &hasCerts, tagExplicit0) || !basic.Empty() {
		return nil, errMalformed
	}
	r.tbs, r.signature = tbsElem, sig.Bytes
	if rest, err := asn1.Unmarshal(algElem, &r.sigAlg); err != nil || len(rest) > 0 {
		return nil, errMalformed
	}
	if hasCerts {
		var list cryptobyte.String
		if !certsField.ReadASN1(&list, cbasn1.SEQUENCE) || !certsField.Empty() {
			return nil, errMalformed
		}
		for !list.Empty() {
			var cd cryptobyte.String
			if !list.ReadASN1Element(&cd, cbasn1.SEQUENCE) {
				return nil, errMalformed
			}
			rc, err := certs.ParseCertificate(cd)
			if err != nil {
				return nil, fmt.Errorf("responder certificate: %w", err)
			}
			r.certs = append(r.certs, rc)
		}
	}
	if err := r.parseTBS(tbsElem); err != nil {
		return nil, err
	}
	return r, nil
}

// parseTBS parses ResponseData.
func (r *ocspResponse) parseTBS(elem cryptobyte.String) error {
	errMalformed := errors.New("malformed OCSP ResponseData")
	var tbs, rid, list cryptobyte.String
	var hasVersion bool
	var version cryptobyte.String
	if !elem.ReadASN1(&tbs, cbasn1.SEQUENCE) || !tbs.ReadOptionalASN1(&version, &hasVersion, tagExplicit0) {
		return errMalformed
	}
	if hasVersion {
		var v int64
		if !version.ReadASN1Integer(&v) || v != 0 {
			return errors.New("OCSP ResponseData version is not v1")
		}
	}
	before := tbs // the ResponderID starts here
	switch {
	case tbs.PeekASN1Tag(tagExplicit1):
		var name cryptobyte.String
		if !tbs.ReadASN1(&rid, tagExplicit1) || !rid.ReadASN1Element(&name, cbasn1.SEQUENCE) || !rid.Empty() {
			return errMalformed
		}
		r.responderName = name
	case tbs.PeekASN1Tag(tagExplicit2):
		var key cryptobyte.String
		if !tbs.ReadASN1(&rid, tagExplicit2) || !rid.ReadASN1(&key, cbasn1.OCTET_STRING) || !rid.Empty() {
			return errMalformed
		}
		r.responderKey = key
	default:
		return errMalformed
	}
	r.responderID = before[:len(before)-len(tbs)]
	if !tbs.ReadASN1GeneralizedTime(&r.producedAt) || !tbs.ReadASN1(&list, cbasn1.SEQUENCE) {
		return errMalformed
	}
	for !list.Empty() {
		sr, err := readSingleResponse(&list)
		if err != nil {
			return err
		}
		r.responses = append(r.responses, sr)
	}
	var exts cryptobyte.String
	var hasExts bool
	if !tbs.ReadOptionalASN1(&exts, &hasExts, tagExplicit1) || !tbs.Empty() {
		return errMalformed
	}
	if hasExts {
		list, err := readExtensions(exts)
		if err != nil {
			return err
		}
		for _, e := range list {
			switch {
			case e.Id.Equal(oidOCSPNonce):
				r.nonce = e.Value
			case e.Critical:
				return fmt.Errorf("unhandled critical OCSP response extension %v", e.Id)
			}
		}
	}
	return nil
}

func readSingleResponse(s *cryptobyte.String) (singleResponse, error) {
	errMalformed := errors.New("malformed OCSP SingleResponse")
	sr := singleResponse{reason: -1}
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return sr, errMalformed
	}
	id, ok := readCertID(&seq)
	if !ok {
		return sr, errMalformed
	}
	sr.id = id
	var st cryptobyte.String
	var tag cbasn1.Tag
	if !seq.ReadAnyASN1(&st, &tag) {
		return sr, errMalformed
	}
	switch tag {
	case cbasn1.Tag(0).ContextSpecific():
		sr.status = Good
	case cbasn1.Tag(1).Constructed().ContextSpecific():
		sr.status = Revoked
		var reason cryptobyte.String
		var hasReason bool
		if !st.ReadASN1GeneralizedTime(&sr.revokedAt) || !st.ReadOptionalASN1(&reason, &hasReason, tagExplicit0) || !st.Empty() {
			return sr, errMalformed
		}
		if hasReason && (!reason.ReadASN1Enum(&sr.reason) || !reason.Empty()) {
			return sr, errMalformed
		}
	case cbasn1.Tag(2).ContextSpecific():
		sr.status = Unknown
	default:
		return sr, errMalformed
	}
	var next, exts cryptobyte.String
	var hasNext, hasExts bool
	if !seq.ReadASN1GeneralizedTime(&sr.thisUpdate) || !seq.ReadOptionalASN1(&next, &hasNext, tagExplicit0) ||
		!seq.ReadOptionalASN1(&exts, &hasExts, tagExplicit1) || !seq.Empty() {
		return sr, errMalformed
	}
	if hasNext && (!next.ReadASN1GeneralizedTime(&sr.nextUpdate) || !next.Empty()) {
		return sr, errMalformed
	}
	if hasExts {
		list, err := readExtensions(exts)
		if err != nil {
			return sr, err
		}
		for _, e := range list {
			if e.Critical {
				return sr, fmt.Errorf("unhandled critical OCSP SingleResponse extension %v", e.Id)
			}
		}
	}
	return sr, nil
}

// readExtensions reads the content of an explicit tag holding Extensions.
func readExtensions(s cryptobyte.String) ([]pkix.Extension, error) {
	errMalformed := errors.New("malformed OCSP extensions")
	var list cryptobyte.String
	if !s.ReadASN1(&list, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errMalformed
	}
	var out []pkix.Extension
	for !list.Empty() {
		var ext cryptobyte.String
		var e pkix.Extension
		if !list.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&e.Id) ||
			!ext.ReadOptionalASN1Boolean(&e.Critical, cbasn1.BOOLEAN, false) ||
			!ext.ReadASN1Bytes(&e.Value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, errMalformed
		}
		out = append(out, e)
	}
	return out, nil
}
