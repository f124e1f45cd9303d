package revocation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
)

// States of a Status.
const (
	Good          = certs.RevocationGood
	Revoked       = certs.RevocationRevoked
	Unknown       = certs.RevocationUnknown // the OCSP responder does not know the certificate: treat as revoked
	Indeterminate = certs.RevocationIndeterminate
)

// Sources of a Status.
const (
	SourceOCSP = "ocsp"
	SourceCRL  = "crl"
)

// Sub-indications (ETSI EN 319 102-1, EU DSS) a Status carries.
const (
	SubRevokedNoPOE          = certs.SubRevokedNoPOE // revoked, or unknown to the responder
	SubTryLater              = certs.SubTryLater     // no acceptable, fresh revocation data now
	SubRevocationOutOfBounds = certs.SubRevocationOutOfBoundsNoPOE
)

// Status is the revocation status of one certificate at the validation time.
type Status struct {
	// State is Good, Revoked, Unknown or Indeterminate.
	State string `json:"state"`
	// Source is SourceOCSP or SourceCRL: where the answer came from.
	Source string `json:"source,omitempty"`
	// URL is the responder or CRL the answer came from.
	URL string `json:"url,omitempty"`
	// RevokedAt and Reason (an RFC 5280 CRLReason name, e.g.
	// "keyCompromise"; empty when none was given) are set when revoked.
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	// ThisUpdate, NextUpdate (zero when absent) and, for OCSP, ProducedAt of
	// the data used.
	ThisUpdate time.Time `json:"thisUpdate,omitzero"`
	NextUpdate time.Time `json:"nextUpdate,omitzero"`
	ProducedAt time.Time `json:"producedAt,omitzero"`
	// Detail says in words what was found.
	Detail string `json:"detail"`
	// SubIndication is the DSS sub-indication for Revoked, Unknown and
	// Indeterminate; empty for Good.
	SubIndication string `json:"subIndication,omitempty"`
	// SoftFail is true when State is Good only because Policy.SoftFail
	// accepted that no revocation data could be fetched.
	SoftFail bool `json:"softFail,omitempty"`
	// Warnings are the attempts that failed before the answer (an OCSP
	// responder that was down before the CRL was used …).
	Warnings []string `json:"warnings,omitempty"`
	// Data is the revocation data the answer rests on, as received: the
	// OCSPResponse, or the CRL and its delta CRL (what a CAdES-X Long
	// signature embeds as revocation-values).
	Data [][]byte `json:"-"`
}

// Mode selects the sources a Checker consults.
type Mode string

// Modes. The zero Mode is ModeAuto.
const (
	ModeAuto Mode = "auto" // OCSP, then the CRL when OCSP gives no answer
	ModeOCSP Mode = "ocsp"
	ModeCRL  Mode = "crl"
	ModeOff  Mode = "off" // no check: every Status is Indeterminate
)

// ParseMode parses "auto", "ocsp", "crl" or "off" (the empty string is auto).
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "", ModeAuto:
		return ModeAuto, nil
	case ModeOCSP, ModeCRL, ModeOff:
		return m, nil
	}
	return "", fmt.Errorf("revocation: unknown mode %q (want auto, ocsp, crl or off)", s)
}

// Policy says what a Checker accepts. The zero value is strict: OCSP then
// CRL, hard-fail, nonce checked when echoed, 5 minutes of skew, data without
// nextUpdate accepted for 7 days, CRLs up to 20 MiB, 30 s per request.
type Policy struct {
	Mode Mode
	// SoftFail makes "no revocation data could be fetched" (network errors,
	// HTTP errors, OCSP tryLater, no URL in the certificate) Good with
	// SoftFail set. Invalid, stale or foreign data stays Indeterminate.
	SoftFail bool
	// RequireNonce refuses OCSP responses that do not echo the request's
	// nonce (many CA responders serve pre-signed responses without one).
	RequireNonce bool
	// MaxSkew is the clock difference tolerated on thisUpdate, nextUpdate
	// and producedAt; 0 means 5 minutes.
	MaxSkew time.Duration
	// MaxAge is how long after thisUpdate data without nextUpdate is used;
	// 0 means 7 days.
	MaxAge time.Duration
	// CRLRefresh, when positive, revalidates a cached CRL (conditional GET)
	// once it is that old even before its nextUpdate; a failed
	// revalidation keeps using the cached CRL while it is fresh.
	CRLRefresh time.Duration
	// MaxCRLSize bounds a CRL download; 0 means 20 MiB.
	MaxCRLSize int64
	// Timeout bounds each HTTP request; 0 means 30 s.
	Timeout time.Duration
}

func (p *Policy) skew() time.Duration   { return orDefault(p.MaxSkew, 5*time.Minute) }
func (p *Policy) maxAge() time.Duration { return orDefault(p.MaxAge, 7*24*time.Hour) }
func (p *Policy) timeout() time.Duration {
	return orDefault(p.Timeout, 30*time.Second)
}

func (p *Policy) maxCRLSize() int64 {
	if p.MaxCRLSize > 0 {
		return p.MaxCRLSize
	}
	return 20 << 20
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Checker checks certificates against their issuers' OCSP responders and
// CRLs. Its zero value works: a fresh http.Client, no cache, no evidence, the
// strict Policy, time.Now. A Checker may be used by several goroutines.
type Checker struct {
	// HTTP makes the requests; nil means a client of its own with the
	// default transport.
	HTTP *http.Client
	// CacheDir, when set, keeps fetched CRLs (a directory, created when
	// missing).
	CacheDir string
	Policy   Policy
	// Evidence, when set, records every CRL and OCSP response used, or
	// replays them without network.
	Evidence *Evidence
	// Now is the validation time; nil means time.Now.
	Now func() time.Time
}

// Check returns the revocation status of cert, issued by issuer, at the
// validation time. The error is only for calls that cannot be answered (nil
// certificates, an issuer that is not cert's issuer, an unknown mode); every
// trouble with the network or the revocation data is a Status.
func (c *Checker) Check(ctx context.Context, cert, issuer *certs.Certificate) (*Status, error) {
	return c.check(ctx, cert, issuer, c.now())
}

// CheckRevocation implements certs.RevocationChecker: Check at the
// validation time at (Now is not used).
func (c *Checker) CheckRevocation(ctx context.Context, cert, issuer *certs.Certificate, at time.Time) (*certs.RevocationStatus, error) {
	st, err := c.check(ctx, cert, issuer, at)
	if err != nil {
		return nil, err
	}
	return &certs.RevocationStatus{State: st.State, Source: st.Source, URL: st.URL, RevokedAt: st.RevokedAt, Reason: st.Reason,
		ThisUpdate: st.ThisUpdate, ProducedAt: st.ProducedAt, Detail: st.Detail, SubIndication: st.SubIndication,
		SoftFail: st.SoftFail, Warnings: st.Warnings}, nil
}

func (c *Checker) check(ctx context.Context, cert, issuer *certs.Certificate, now time.Time) (*Status, error) {
	if cert == nil || cert.Certificate == nil || issuer == nil || issuer.Certificate == nil {
		return nil, errors.New("revocation: no certificate or no issuer")
	}
	if !bytes.Equal(cert.RawIssuer, issuer.RawSubject) {
		return nil, fmt.Errorf("revocation: %q is not the issuer of %q", issuer.SubjectString(), cert.SubjectString())
	}
	mode, err := ParseMode(string(c.Policy.Mode))
	if err != nil {
		return nil, err
	}
	var sources []func(context.Context, *certs.Certificate, *certs.Certificate, time.Time) (*Status, *failure)
	switch mode {
	case ModeOff:
		return &Status{State: Indeterminate, Detail: "revocation checking is off"}, nil
	case ModeOCSP:
		sources = append(sources, c.checkOCSP)
	case ModeCRL:
		sources = append(sources, c.checkCRL)
	default:
		sources = append(sources, c.checkOCSP, c.checkCRL)
	}
	var warnings []string
	var worst *failure
	onlyUnavailable := true
	for _, src := range sources {
		st, f := src(ctx, cert, issuer, now)
		if f == nil {
			st.Warnings = append(warnings, st.Warnings...)
			return st, nil
		}
		warnings = append(warnings, f.Error())
		if worst == nil || worst.kind == unavailable && f.kind != unavailable {
			worst = f
		}
		if f.kind != unavailable {
			onlyUnavailable = false
		}
	}
	if c.Policy.SoftFail && onlyUnavailable {
		return &Status{State: Good, SoftFail: true, Warnings: warnings,
			Detail: "soft-fail: no revocation data could be fetched (" + strings.Join(warnings, "; ") + ")"}, nil
	}
	st := &Status{State: Indeterminate, SubIndication: SubTryLater, Source: worst.source, URL: worst.url,
		Detail: strings.Join(warnings, "; "), Warnings: warnings}
	if worst.kind == outOfBounds {
		st.SubIndication = SubRevocationOutOfBounds
	}
	return st, nil
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Checker) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{}
}

// failureKind classifies why a source gave no answer.
type failureKind int

const (
	unavailable failureKind = iota // nothing fetched: soft-fail may accept it
	invalid                        // fetched but unusable: bad signature, foreign, stale …
	outOfBounds                    // issued after the validation time
)

// failure is why one source gave no answer.
type failure struct {
	kind   failureKind
	source string
	url    string
	err    error
}

func (f *failure) Error() string {
	if f.url == "" {
		return f.source + ": " + f.err.Error()
	}
	return f.source + " " + f.url + ": " + f.err.Error()
}

func fail(kind failureKind, source, url string, format string, args ...any) *failure {
	return &failure{kind: kind, source: source, url: url, err: fmt.Errorf(format, args...)}
}

// checkTimes checks thisUpdate and nextUpdate against the validation time.
func (c *Checker) checkTimes(source, url string, now, thisUpdate, nextUpdate time.Time) *failure {
	const layout = "2006-01-02 15:04:05Z"
	skew := c.Policy.skew()
	switch {
	case thisUpdate.IsZero():
		return fail(invalid, source, url, "no thisUpdate")
	case thisUpdate.After(now.Add(skew)):
		return fail(outOfBounds, source, url, "thisUpdate %s is after the validation time %s", thisUpdate.UTC().Format(layout), now.UTC().Format(layout))
	case !nextUpdate.IsZero() && now.After(nextUpdate.Add(skew)):
		return fail(invalid, source, url, "stale: nextUpdate %s is before the validation time %s", nextUpdate.UTC().Format(layout), now.UTC().Format(layout))
	case nextUpdate.IsZero() && now.Sub(thisUpdate) > c.Policy.maxAge():
		return fail(invalid, source, url, "stale: no nextUpdate and thisUpdate %s is older than %s", thisUpdate.UTC().Format(layout), c.Policy.maxAge())
	}
	return nil
}

var reasonNames = []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", "7", "removeFromCRL", "privilegeWithdrawn", "aACompromise"}

// reasonName names an RFC 5280 CRLReason; -1 (none given) is "".
func reasonName(code int) string {
	switch {
	case code < 0:
		return ""
	case code < len(reasonNames):
		return reasonNames[code]
	}
	return fmt.Sprint(code)
}
