package revocation

import (
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
)

var (
	oidFreshestCRL       = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
)

// reasonRemoveFromCRL is the CRLReason with which a delta CRL takes a
// certificate off hold.
const reasonRemoveFromCRL = 8

const timeLayout = "2006-01-02 15:04:05Z"

// checkCRL checks cert against the CRLs at its HTTP distribution points,
// using the first that gives an answer.
func (c *Checker) checkCRL(ctx context.Context, cert, issuer *certs.Certificate, now time.Time) (*Status, *failure) {
	urls := httpOnly(cert.CRLDistributionPoints)
	if len(urls) == 0 {
		return nil, fail(unavailable, SourceCRL, "", "the certificate names no HTTP CRL distribution point")
	}
	var worst *failure
	for _, u := range urls {
		st, f := c.checkCRLAt(ctx, u, cert, issuer, now)
		if f == nil {
			return st, nil
		}
		if worst == nil || worst.kind == unavailable && f.kind != unavailable {
			worst = f
		}
	}
	return nil, worst
}

// checkCRLAt checks cert against the CRL at u and the delta CRL that the
// certificate or that CRL names.
func (c *Checker) checkCRLAt(ctx context.Context, u string, cert, issuer *certs.Certificate, now time.Time) (*Status, *failure) {
	var notes []string
	base, note, f := c.getCRL(ctx, u, issuer, now)
	if f != nil {
		return nil, f
	}
	notes = appendNote(notes, note)
	if findExtension(base.Extensions, oidDeltaCRLIndicator) != nil {
		return nil, fail(invalid, SourceCRL, u, "a delta CRL where a complete CRL was expected")
	}
	deltaURLs, err := freshestCRLURLs(cert.Extensions, base.Extensions)
	if err != nil {
		return nil, fail(invalid, SourceCRL, u, "freshestCRL: %v", err)
	}
	var delta *certs.CRL
	if len(deltaURLs) > 0 {
		var df *failure
		for _, du := range deltaURLs {
			if delta, note, df = c.getCRL(ctx, du, issuer, now); df == nil {
				notes = appendNote(notes, note)
				break
			}
		}
		if delta == nil {
			df.err = fmt.Errorf("delta CRL: %w", df.err)
			return nil, df
		}
		if err := checkDelta(base, delta); err != nil {
			return nil, fail(invalid, SourceCRL, u, "delta CRL: %v", err)
		}
	}

	st := &Status{Source: SourceCRL, URL: u, ThisUpdate: base.ThisUpdate, NextUpdate: base.NextUpdate, Warnings: notes, Data: [][]byte{base.Raw}}
	of := "the CRL of " + base.ThisUpdate.UTC().Format(timeLayout)
	entry, revoked := base.Revoked(cert.SerialNumber)
	if delta != nil {
		st.ThisUpdate, st.NextUpdate = delta.ThisUpdate, delta.NextUpdate
		st.Data = append(st.Data, delta.Raw)
		of += " and its delta CRL of " + delta.ThisUpdate.UTC().Format(timeLayout)
		if e, ok := delta.Revoked(cert.SerialNumber); ok {
			entry, revoked = e, e.ReasonCode != reasonRemoveFromCRL
		}
	}
	switch {
	case revoked && !entry.RevocationTime.After(now):
		st.State, st.SubIndication = Revoked, SubRevokedNoPOE
		st.RevokedAt, st.Reason = entry.RevocationTime, reasonName(entry.ReasonCode)
		st.Detail = fmt.Sprintf("revoked at %s (%s) according to %s", entry.RevocationTime.UTC().Format(timeLayout), st.Reason, of)
	case revoked:
		st.State = Good
		st.Detail = fmt.Sprintf("revoked only at %s, after the validation time, according to %s", entry.RevocationTime.UTC().Format(timeLayout), of)
	default:
		st.State = Good
		st.Detail = "not on " + of
	}
	return st, nil
}

func appendNote(notes []string, note string) []string {
	if note == "" {
		return notes
	}
	return append(notes, note)
}

// getCRL returns the CRL at u, checked against issuer at now: from the
// evidence in replay mode, else from the cache while it is fresh, else over
// HTTP (conditionally when cached). note is a problem that did not prevent
// the answer (a cache that could not be written, a failed revalidation).
func (c *Checker) getCRL(ctx context.Context, u string, issuer *certs.Certificate, now time.Time) (crl *certs.CRL, note string, f *failure) {
	if ev := c.Evidence; ev != nil && ev.Replay {
		data, _, err := ev.read(SourceCRL, u, nil)
		if err != nil {
			return nil, "", fail(unavailable, SourceCRL, u, "%v", err)
		}
		crl, f := c.acceptCRL(u, data, issuer, now)
		return crl, "", f
	}
	ent := c.readCache(u)
	if ent != nil && (c.Policy.CRLRefresh <= 0 || now.Sub(ent.meta.Fetched) < c.Policy.CRLRefresh) {
		if crl, f := c.acceptCRL(u, ent.body, issuer, now); f == nil {
			return crl, "", c.recordCRL(u, ent)
		}
		// A cached CRL that is no longer usable (stale) is fetched again.
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fail(invalid, SourceCRL, u, "%v", err)
	}
	if ent != nil {
		if ent.meta.ETag != "" {
			req.Header.Set("If-None-Match", ent.meta.ETag)
		}
		if ent.meta.LastModified != "" {
			req.Header.Set("If-Modified-Since", ent.meta.LastModified)
		}
	}
	resp, body, err := c.do(ctx, req, c.Policy.maxCRLSize())
	switch {
	case err != nil && ent != nil:
		// The cached CRL is still good until its nextUpdate.
		if crl, f := c.acceptCRL(u, ent.body, issuer, now); f == nil {
			return crl, fmt.Sprintf("crl %s: revalidation failed (%v); the cached CRL is used", u, err), c.recordCRL(u, ent)
		}
		return nil, "", fail(unavailable, SourceCRL, u, "%v", err)
	case err != nil:
		kind := unavailable
		if errors.Is(err, errTooLarge) {
			kind = invalid
		}
		return nil, "", fail(kind, SourceCRL, u, "%v", err)
	case resp.StatusCode == http.StatusNotModified:
		if ent == nil {
			return nil, "", fail(invalid, SourceCRL, u, "304 Not Modified to an unconditional request")
		}
		ent.meta.Fetched = now
	default:
		ent = &cached{meta: cacheMeta{URL: u, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), Fetched: now}, body: body}
	}
	if crl, f = c.acceptCRL(u, ent.body, issuer, now); f != nil {
		return nil, "", f
	}
	if err := c.writeCache(ent); err != nil {
		note = fmt.Sprintf("crl %s: cache not written: %v", u, err)
	}
	return crl, note, c.recordCRL(u, ent)
}

// acceptCRL parses data and checks that issuer signed it and that it is
// current at now.
func (c *Checker) acceptCRL(u string, data []byte, issuer *certs.Certificate, now time.Time) (*certs.CRL, *failure) {
	crl, err := certs.ParseCRL(data)
	if err != nil {
		return nil, fail(invalid, SourceCRL, u, "%v", err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, fail(invalid, SourceCRL, u, "%v", err)
	}
	if f := c.checkTimes(SourceCRL, u, now, crl.ThisUpdate, crl.NextUpdate); f != nil {
		return nil, f
	}
	return crl, nil
}

// recordCRL writes the CRL used to the evidence directory in record mode.
func (c *Checker) recordCRL(u string, ent *cached) *failure {
	if ev := c.Evidence; ev != nil && !ev.Replay {
		if err := ev.write(SourceCRL, u, nil, ent.body, evidenceMeta{Fetched: ent.meta.Fetched}); err != nil {
			return fail(invalid, SourceCRL, u, "%v", err)
		}
	}
	return nil
}

// checkDelta checks that delta is a delta CRL that applies to base.
func checkDelta(base, delta *certs.CRL) error {
	ext := findExtension(delta.Extensions, oidDeltaCRLIndicator)
	if ext == nil {
		return errors.New("no deltaCRLIndicator")
	}
	var baseNumber *big.Int
	if rest, err := asn1.Unmarshal(ext.Value, &baseNumber); err != nil || len(rest) > 0 {
		return errors.New("malformed deltaCRLIndicator")
	}
	if base.Number == nil {
		return errors.New("the complete CRL has no CRL number")
	}
	if base.Number.Cmp(baseNumber) < 0 {
		return fmt.Errorf("it applies to CRL number %v and later, the complete CRL is number %v", baseNumber, base.Number)
	}
	return nil
}

func findExtension(exts []pkix.Extension, oid asn1.ObjectIdentifier) *pkix.Extension {
	for i := range exts {
		if exts[i].Id.Equal(oid) {
			return &exts[i]
		}
	}
	return nil
}

// freshestCRLURLs returns the HTTP URLs of the first freshestCRL extension
// among the extension lists given (the certificate's, then the CRL's).
func freshestCRLURLs(lists ...[]pkix.Extension) ([]string, error) {
	for _, exts := range lists {
		if ext := findExtension(exts, oidFreshestCRL); ext != nil {
			urls, err := distributionPointURLs(ext.Value)
			return httpOnly(urls), err
		}
	}
	return nil, nil
}

// distributionPointURLs reads the URIs of the fullNames of a
// CRLDistributionPoints value (RFC 5280 4.2.1.13; freshestCRL has the same
// syntax).
func distributionPointURLs(der []byte) ([]string, error) {
	errMalformed := errors.New("malformed distribution points")
	s := cryptobyte.String(der)
	var dps cryptobyte.String
	if !s.ReadASN1(&dps, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, errMalformed
	}
	var urls []string
	for !dps.Empty() {
		var dp, name, full cryptobyte.String
		var hasName, hasFull bool
		if !dps.ReadASN1(&dp, cbasn1.SEQUENCE) ||
			!dp.ReadOptionalASN1(&name, &hasName, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, errMalformed
		}
		if !hasName {
			continue
		}
		if !name.ReadOptionalASN1(&full, &hasFull, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, errMalformed
		}
		for hasFull && !full.Empty() {
			var v cryptobyte.String
			var tag cbasn1.Tag
			if !full.ReadAnyASN1(&v, &tag) {
				return nil, errMalformed
			}
			if tag == cbasn1.Tag(6).ContextSpecific() {
				urls = append(urls, string(v))
			}
		}
	}
	return urls, nil
}
