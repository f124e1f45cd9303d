package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Indications of a validation, as ETSI EN 319 102-1 and EU DSS name them.
const (
	TotalPassed   = "TOTAL_PASSED"
	TotalFailed   = "TOTAL_FAILED"
	Indeterminate = "INDETERMINATE"
)

// Sub-indications Verify gives (ETSI EN 319 102-1 / DSS names). The package
// documentation says which check leads to which.
const (
	SubNotYetValid                   = "NOT_YET_VALID"
	SubChainConstraintsFailure       = "CHAIN_CONSTRAINTS_FAILURE"
	SubSigCryptoFailure              = "SIG_CRYPTO_FAILURE"
	SubCertificateChainGeneral       = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	SubNoCertificateChainFound       = "NO_CERTIFICATE_CHAIN_FOUND"
	SubOutOfBoundsNoPOE              = "OUT_OF_BOUNDS_NO_POE"
	SubOutOfBoundsNotRevoked         = "OUT_OF_BOUNDS_NOT_REVOKED"
	SubRevokedNoPOE                  = "REVOKED_NO_POE"
	SubRevokedCANoPOE                = "REVOKED_CA_NO_POE"
	SubCryptoConstraintsFailureNoPOE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
)

// Check codes: one per kind of check, stable across releases.
const (
	CheckCertSignature      = "CERT_SIGNATURE"
	CheckValidity           = "VALIDITY"
	CheckBasicConstraints   = "BASIC_CONSTRAINTS"
	CheckPathLength         = "PATH_LENGTH"
	CheckKeyCertSign        = "KEY_CERT_SIGN"
	CheckAKISKI             = "AKI_SKI"
	CheckNameChaining       = "NAME_CHAINING"
	CheckCriticalExtensions = "CRITICAL_EXTENSIONS"
	CheckKeyUsage           = "KEY_USAGE"
	CheckRevocation         = "REVOCATION"
	CheckTrustAnchor        = "TRUST_ANCHOR"
)

// Check statuses.
const (
	StatusPassed     = "passed"
	StatusFailed     = "failed"
	StatusWarning    = "warning"
	StatusNotChecked = "not_checked"
)

// Purpose is what the leaf certificate is validated for.
type Purpose int

// The purposes. The zero value is PurposeSigning.
const (
	// PurposeSigning: keyUsage has nonRepudiation or digitalSignature.
	PurposeSigning Purpose = iota
	// PurposeLogin: keyUsage has digitalSignature, and extKeyUsage is
	// absent or has clientAuth.
	PurposeLogin
	// PurposeAny: no key usage requirement on the leaf.
	PurposeAny
	// PurposeTimeStamping: a time-stamping authority (RFC 3161 2.3):
	// extKeyUsage is critical and has timeStamping only.
	PurposeTimeStamping
)

func (p Purpose) String() string {
	switch p {
	case PurposeSigning:
		return "sign"
	case PurposeLogin:
		return "login"
	case PurposeAny:
		return "any"
	case PurposeTimeStamping:
		return "timestamping"
	}
	return fmt.Sprintf("Purpose(%d)", int(p))
}

// ParsePurpose returns the purpose named "sign", "login" or "any".
func ParsePurpose(s string) (Purpose, error) {
	for _, p := range []Purpose{PurposeSigning, PurposeLogin, PurposeAny, PurposeTimeStamping} {
		if s == p.String() {
			return p, nil
		}
	}
	return 0, fmt.Errorf("certs: unknown purpose %q (want sign, login or any)", s)
}

// VerifyOptions configures Verify. The zero value is strict: no trust anchors
// (so no chain is found), the current time, the signing purpose, no CRLs.
type VerifyOptions struct {
	// Roots are the trust anchors. A path must end at one of them.
	Roots []*Certificate
	// Intermediates are certificates that may be used to build paths.
	Intermediates []*Certificate
	// At is the validation time; zero means time.Now().
	At time.Time
	// Purpose is what the leaf must be usable for.
	Purpose Purpose
	// Revocation, when set, is asked about every certificate below the
	// anchor that the CRLs do not answer for (VerifyContext gives it the
	// context). Without it such certificates are "not_checked".
	Revocation RevocationChecker
	// CRLs are checked for every certificate below the anchor. A CRL is
	// used only when its issuer name matches, its signature verifies with
	// the issuer's key and At lies within thisUpdate … nextUpdate.
	CRLs []*CRL
	// POESource says what At proves for the algorithm constraints
	// (constraints.go): "the signature time-stamp" when verify validates at
	// a time-stamp's time; "the validation time" when empty.
	POESource string
}

// Check is one check of a validation.
type Check struct {
	Code    string `json:"code"`    // CheckCertSignature, CheckValidity …
	Status  string `json:"status"`  // StatusPassed, StatusFailed, StatusWarning, StatusNotChecked
	Subject string `json:"subject"` // the certificate checked
	Detail  string `json:"detail"`
	// Reason is a stable code refining Code, where there is one (the
	// AlgorithmConstraints row of an ALGORITHM_CONSTRAINTS check).
	Reason string `json:"reason,omitempty"`
}

// PathFailure is why a candidate path other than the reported one failed.
type PathFailure struct {
	Chain         []string `json:"chain"` // subjects, leaf first
	Indication    string   `json:"indication"`
	SubIndication string   `json:"subIndication"`
	Reason        string   `json:"reason"`
}

// ChainResult is the outcome of Verify.
type ChainResult struct {
	Indication    string    `json:"indication"`
	SubIndication string    `json:"subIndication,omitempty"`
	At            time.Time `json:"validationTime"`
	// Chain is the reported path, leaf first; when no path reaches a trust
	// anchor, the longest partial path.
	Chain []*Certificate `json:"chain"`
	// Checks are the checks of the reported path, certificate by
	// certificate from the leaf.
	Checks []Check `json:"checks"`
	// OtherPaths are the other candidate paths that failed.
	OtherPaths []PathFailure `json:"otherPaths,omitempty"`
}

// Valid reports whether the indication is TOTAL_PASSED.
func (r *ChainResult) Valid() bool { return r.Indication == TotalPassed }

// Failures returns the failed checks.
func (r *ChainResult) Failures() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == StatusFailed {
			out = append(out, c)
		}
	}
	return out
}

// Limits of path building.
const (
	maxPathLen = 10 // certificates in one path, leaf and anchor included
	maxPaths   = 32 // candidate paths examined
)

// knownCriticalExtensions are extensions crypto/x509 does not handle that
// kep does: the Russian qualified-certificate extensions and
// privateKeyUsagePeriod, which CryptoPro CAs write.
var knownCriticalExtensions = []asn1.ObjectIdentifier{
	OIDSubjectSignTool, OIDIssuerSignTool, OIDIdentificationKind,
	{2, 5, 29, 16}, // privateKeyUsagePeriod
}

// unenforcedExtensions are extensions crypto/x509 handles in its own Verify
// but kep's path validation does not process; marked critical they fail the
// CRITICAL_EXTENSIONS check.
var unenforcedExtensions = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{asn1.ObjectIdentifier{2, 5, 29, 30}, "nameConstraints"},
	{asn1.ObjectIdentifier{2, 5, 29, 33}, "policyMappings"},
	{asn1.ObjectIdentifier{2, 5, 29, 36}, "policyConstraints"},
	{asn1.ObjectIdentifier{2, 5, 29, 54}, "inhibitAnyPolicy"},
}

// Verify builds every path from leaf to a trust anchor in opts.Roots through
// opts.Intermediates and validates each at opts.At (RFC 5280 path
// validation, without policy processing, plus the CRLs in opts). It returns
// the best path: a valid one, else the one whose first failure comes latest.
// It never returns nil.
func Verify(leaf *Certificate, opts VerifyOptions) *ChainResult {
	return VerifyContext(context.Background(), leaf, opts)
}

// VerifyContext is Verify with a context for opts.Revocation's requests.
func VerifyContext(ctx context.Context, leaf *Certificate, opts VerifyOptions) *ChainResult {
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	v := &verifier{ctx: ctx, opts: opts, at: at, roots: map[string]bool{}, online: map[string]*RevocationStatus{}}
	if leaf == nil || leaf.Certificate == nil {
		return &ChainResult{Indication: Indeterminate, SubIndication: SubNoCertificateChainFound, At: at,
			Checks: []Check{{Code: CheckTrustAnchor, Status: StatusFailed, Detail: "no certificate to verify"}}}
	}
	seen := map[string]bool{}
	for _, c := range opts.Roots {
		if c != nil && c.Certificate != nil && !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			v.roots[string(c.Raw)] = true
			v.pool = append(v.pool, c)
		}
	}
	for _, c := range opts.Intermediates {
		if c != nil && c.Certificate != nil && !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			v.pool = append(v.pool, c)
		}
	}
	v.build([]*Certificate{leaf})

	var results []*pathResult
	for _, p := range v.paths {
		results = append(results, v.validate(p))
	}
	best := 0
	for i, r := range results[1:] {
		if r.better(results[best]) {
			best = i + 1
		}
	}
	b := results[best]
	res := &ChainResult{Indication: b.indication, SubIndication: b.sub, At: at, Chain: b.chain, Checks: b.checks}
	for i, r := range results {
		if i == best || r.indication == TotalPassed {
			continue
		}
		pf := PathFailure{Indication: r.indication, SubIndication: r.sub, Reason: r.reason}
		for _, c := range r.chain {
			pf.Chain = append(pf.Chain, c.displayName())
		}
		res.OtherPaths = append(res.OtherPaths, pf)
	}
	return res
}

type verifier struct {
	ctx    context.Context
	online map[string]*RevocationStatus // answers of opts.Revocation, by certificate and issuer
	opts   VerifyOptions
	at     time.Time
	pool   []*Certificate  // roots first, then intermediates, without duplicates
	roots  map[string]bool // by DER
	paths  []candidatePath
}

type candidatePath struct {
	chain    []*Certificate // leaf first
	complete bool           // ends at a trust anchor
	why      string         // why an incomplete path stops
}

// build extends path (leaf first) towards trust anchors depth-first and
// records every path that ends, at an anchor or at a dead end.
func (v *verifier) build(path []*Certificate) {
	if len(v.paths) >= maxPaths {
		return
	}
	last := path[len(path)-1]
	if v.roots[string(last.Raw)] {
		v.paths = append(v.paths, candidatePath{chain: path, complete: true})
		return
	}
	if len(path) >= maxPathLen {
		v.paths = append(v.paths, candidatePath{chain: path, why: fmt.Sprintf("no trust anchor within %d certificates", maxPathLen)})
		return
	}
	var issuers []*Certificate
	for _, c := range v.pool {
		if isIssuerCandidate(last, c) && !inPath(path, c) {
			issuers = append(issuers, c)
		}
	}
	if len(issuers) == 0 {
		why := fmt.Sprintf("the issuer %q of %q is neither a trust anchor nor among the intermediate certificates", last.IssuerString(), last.displayName())
		if len(v.roots) == 0 {
			why = "no trust anchors were given"
		}
		for _, c := range v.pool {
			if bytes.Equal(c.RawSubject, last.RawIssuer) && !inPath(path, c) {
				why += fmt.Sprintf(" (%q has the issuer's name but its subjectKeyIdentifier %X differs from the authorityKeyIdentifier %X)", c.displayName(), c.SubjectKeyId, last.AuthorityKeyId)
				break
			}
		}
		v.paths = append(v.paths, candidatePath{chain: path, why: why})
		return
	}
	for _, c := range issuers {
		next := append(append(make([]*Certificate, 0, len(path)+1), path...), c)
		v.build(next)
	}
}

// isIssuerCandidate reports whether parent may have issued c: by key
// identifier when both certificates carry one, else by name.
func isIssuerCandidate(c, parent *Certificate) bool {
	if len(c.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 {
		return bytes.Equal(c.AuthorityKeyId, parent.SubjectKeyId)
	}
	return bytes.Equal(c.RawIssuer, parent.RawSubject)
}

func inPath(path []*Certificate, c *Certificate) bool {
	for _, p := range path {
		if bytes.Equal(p.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// pathResult is a validated candidate path.
type pathResult struct {
	chain              []*Certificate
	complete           bool
	checks             []Check
	indication, sub    string
	reason             string
	failCert, failStep int // where the first failure in processing order is; -1 when none
}

// better reports whether r should be reported rather than o: a valid path
// over an invalid one, a complete one over a partial one, then the one whose
// first failure (processing from the anchor down to the leaf) comes latest,
// then the shorter.
func (r *pathResult) better(o *pathResult) bool {
	if (r.indication == TotalPassed) != (o.indication == TotalPassed) {
		return r.indication == TotalPassed
	}
	if r.complete != o.complete {
		return r.complete
	}
	if r.indication != TotalPassed {
		// Lower certificate index = nearer the leaf = later in processing.
		if r.failCert != o.failCert {
			return r.failCert < o.failCert
		}
		if r.failStep != o.failStep {
			return r.failStep > o.failStep
		}
	}
	return len(r.chain) < len(o.chain)
}

// outcome is the indication a failed check leads to, by priority: lower
// rank wins when several checks fail.
type outcome struct {
	indication, sub string
	rank            int
}

var (
	outSigCrypto    = outcome{TotalFailed, SubSigCryptoFailure, 1}
	outChainGeneral = outcome{TotalFailed, SubCertificateChainGeneral, 2}
	outNotYetValid  = outcome{TotalFailed, SubNotYetValid, 3}
	// EN 319 102-1 (table 5) lists CHAIN_CONSTRAINTS_FAILURE under
	// INDETERMINATE: the chain does not meet the validation constraints,
	// which says nothing against the signature itself. It ranks after the
	// TOTAL_FAILED outcomes so that those always decide.
	outChainConstraints = outcome{Indeterminate, SubChainConstraintsFailure, 4}
	outNoChain          = outcome{Indeterminate, SubNoCertificateChainFound, 5}
	outCryptoNoPOE      = outcome{Indeterminate, SubCryptoConstraintsFailureNoPOE, 6}
	outRevoked          = outcome{Indeterminate, SubRevokedNoPOE, 7}
	outRevokedCA        = outcome{Indeterminate, SubRevokedCANoPOE, 8}
	outExpired          = outcome{Indeterminate, SubOutOfBoundsNoPOE, 9}
)

// certChecks collects the checks of one certificate in processing order.
type certChecks struct {
	subject  string
	checks   []Check
	outcomes []*outcome // parallel to checks: nil unless the check failed
}

func (cc *certChecks) add(code, status, detail string, out *outcome) {
	cc.checks = append(cc.checks, Check{Code: code, Status: status, Subject: cc.subject, Detail: detail})
	if status != StatusFailed {
		out = nil
	}
	cc.outcomes = append(cc.outcomes, out)
}

// validate runs every check on a candidate path.
func (v *verifier) validate(p candidatePath) *pathResult {
	chain := p.chain
	n := len(chain)
	per := make([]*certChecks, n)
	expired := make([]bool, n)
	notRevoked := make([]bool, n)
	for i, c := range chain {
		cc := &certChecks{subject: c.displayName()}
		per[i] = cc
		anchor := p.complete && i == n-1
		if anchor {
			cc.add(CheckTrustAnchor, StatusPassed, fmt.Sprintf("trusted: %s, SHA-1 %s", c.SubjectString(), c.Thumbprint()), nil)
		}
		if i < n-1 {
			v.checkLink(cc, c, chain[i+1])
			v.checkConstraints(cc, c, chain[i+1])
		} else if !p.complete {
			cc.add(CheckTrustAnchor, StatusFailed, p.why, &outNoChain)
		}
		expired[i] = v.checkValidity(cc, c)
		if i < n-1 {
			notRevoked[i] = v.checkRevocation(cc, c, chain[i+1], i == 0, p.complete)
		} else if !anchor {
			cc.add(CheckRevocation, StatusNotChecked, "the issuer is unknown", nil)
		}
		checkCriticalExtensions(cc, c)
		if i > 0 {
			checkIssuer(cc, chain, i, anchor)
		} else {
			checkKeyUsage(cc, c, v.opts.Purpose)
		}
	}

	r := &pathResult{chain: chain, complete: p.complete, failCert: -1, failStep: -1}
	var worst *outcome
	// Processing order: from the anchor down to the leaf.
	for i := n - 1; i >= 0; i-- {
		for j, out := range per[i].outcomes {
			if out == nil {
				continue
			}
			if r.failCert < 0 {
				r.failCert, r.failStep = i, j
				r.reason = per[i].subject + ": " + per[i].checks[j].Code + ": " + per[i].checks[j].Detail
			}
			if worst == nil || out.rank < worst.rank {
				worst = out
			}
		}
	}
	for i := 0; i < n; i++ {
		r.checks = append(r.checks, per[i].checks...)
	}
	switch {
	case !p.complete:
		// Whatever else fails, a path that reaches no trust anchor proves nothing.
		r.indication, r.sub, r.reason = outNoChain.indication, outNoChain.sub, p.why
	case worst == nil:
		r.indication = TotalPassed
	case worst == &outExpired:
		r.indication, r.sub = worst.indication, worst.sub
		all := true
		for i := range chain {
			if expired[i] && !notRevoked[i] {
				all = false
			}
		}
		if all {
			r.sub = SubOutOfBoundsNotRevoked
		}
	default:
		r.indication, r.sub = worst.indication, worst.sub
	}
	return r
}

// checkConstraints applies AlgorithmConstraints to the signature issuer made on c.
func (v *verifier) checkConstraints(cc *certChecks, c, issuer *Certificate) {
	d, _ := MessageDigestFor(c.SignatureAlgorithmID)
	src := v.opts.POESource
	if src == "" {
		src = "the validation time"
	}
	for _, r := range CheckAlgorithms(issuer, d, POE{Time: v.at, Source: src}) {
		if r.Accepted {
			cc.add(CheckAlgConstraint, StatusPassed, r.Message(), nil)
		} else {
			cc.add(CheckAlgConstraint, StatusFailed, r.Message(), &outCryptoNoPOE)
		}
		cc.checks[len(cc.checks)-1].Reason = r.Constraint.Reason
	}
}

// checkLink checks what ties c to its issuer: signature, names, key identifiers.
func (v *verifier) checkLink(cc *certChecks, c, issuer *Certificate) {
	switch err := c.CheckSignatureFrom(issuer); {
	case err == nil:
		cc.add(CheckCertSignature, StatusPassed, fmt.Sprintf("%s signature by %q verifies", c.SignatureAlgorithmName(), issuer.displayName()), nil)
	case errors.Is(err, ErrUnsupportedAlgorithm):
		cc.add(CheckCertSignature, StatusFailed, "cannot verify: "+err.Error(), &outCryptoNoPOE)
	default:
		cc.add(CheckCertSignature, StatusFailed, fmt.Sprintf("signature by %q: %v", issuer.displayName(), err), &outSigCrypto)
	}
	if bytes.Equal(c.RawIssuer, issuer.RawSubject) {
		cc.add(CheckNameChaining, StatusPassed, "issuer name equals the issuer's subject", nil)
	} else {
		cc.add(CheckNameChaining, StatusFailed, fmt.Sprintf("issuer name %q differs from the issuer's subject %q", c.IssuerString(), issuer.SubjectString()), &outChainGeneral)
	}
	switch {
	case len(c.AuthorityKeyId) == 0 || len(issuer.SubjectKeyId) == 0:
		cc.add(CheckAKISKI, StatusNotChecked, "authorityKeyIdentifier or the issuer's subjectKeyIdentifier is absent; matched by name", nil)
	case bytes.Equal(c.AuthorityKeyId, issuer.SubjectKeyId):
		cc.add(CheckAKISKI, StatusPassed, fmt.Sprintf("authorityKeyIdentifier %X", c.AuthorityKeyId), nil)
	default:
		cc.add(CheckAKISKI, StatusFailed, fmt.Sprintf("authorityKeyIdentifier %X, the issuer's subjectKeyIdentifier %X", c.AuthorityKeyId, issuer.SubjectKeyId), &outChainGeneral)
	}
}

// checkValidity checks the validity period and reports whether c had expired at At.
func (v *verifier) checkValidity(cc *certChecks, c *Certificate) (expired bool) {
	const layout = "2006-01-02 15:04:05Z"
	period := c.NotBefore.UTC().Format(layout) + " … " + c.NotAfter.UTC().Format(layout)
	switch {
	case v.at.Before(c.NotBefore):
		cc.add(CheckValidity, StatusFailed, fmt.Sprintf("not yet valid at %s (valid %s)", v.at.UTC().Format(layout), period), &outNotYetValid)
	case v.at.After(c.NotAfter):
		cc.add(CheckValidity, StatusFailed, fmt.Sprintf("expired at %s (valid %s)", v.at.UTC().Format(layout), period), &outExpired)
		return true
	default:
		cc.add(CheckValidity, StatusPassed, "valid "+period, nil)
	}
	return false
}

// checkRevocation checks c against the CRLs issued by issuer and reports
// whether a usable CRL shows c unrevoked.
func (v *verifier) checkRevocation(cc *certChecks, c, issuer *Certificate, leaf, complete bool) (notRevoked bool) {
	const layout = "2006-01-02 15:04:05Z"
	var usable []*CRL
	for _, l := range v.opts.CRLs {
		if l == nil || l.RevocationList == nil || !bytes.Equal(l.RawIssuer, c.RawIssuer) {
			continue
		}
		desc := fmt.Sprintf("CRL of %s, thisUpdate %s", formatName(l.Issuer), l.ThisUpdate.UTC().Format(layout))
		if err := l.CheckSignatureFrom(issuer); err != nil {
			cc.add(CheckRevocation, StatusWarning, desc+" ignored: "+err.Error(), nil)
			continue
		}
		if v.at.Before(l.ThisUpdate) {
			cc.add(CheckRevocation, StatusWarning, desc+" ignored: issued after the validation time", nil)
			continue
		}
		if !l.NextUpdate.IsZero() && v.at.After(l.NextUpdate) {
			cc.add(CheckRevocation, StatusWarning, desc+" ignored: nextUpdate "+l.NextUpdate.UTC().Format(layout)+" is before the validation time", nil)
			continue
		}
		usable = append(usable, l)
	}
	out := &outRevokedCA
	if leaf {
		out = &outRevoked
	}
	if len(usable) == 0 {
		if v.opts.Revocation != nil && complete {
			return v.checkOnline(cc, c, issuer, out)
		}
		cc.add(CheckRevocation, StatusNotChecked, "no usable CRL of the issuer was given", nil)
		return false
	}
	var later *x509.RevocationListEntry
	for _, l := range usable {
		e, revoked := l.Revoked(c.SerialNumber)
		if !revoked {
			continue
		}
		if !e.RevocationTime.After(v.at) {
			cc.add(CheckRevocation, StatusFailed, fmt.Sprintf("revoked at %s (reason %s) by the CRL of %s", e.RevocationTime.UTC().Format(layout), reasonName(e.ReasonCode), l.ThisUpdate.UTC().Format(layout)), out)
			return false
		}
		later = e
	}
	if later != nil {
		cc.add(CheckRevocation, StatusWarning, fmt.Sprintf("revoked at %s, after the validation time (reason %s)", later.RevocationTime.UTC().Format(layout), reasonName(later.ReasonCode)), nil)
		return true
	}
	cc.add(CheckRevocation, StatusPassed, fmt.Sprintf("not on the CRL of %s", usable[0].ThisUpdate.UTC().Format(layout)), nil)
	return true
}

// checkOnline asks opts.Revocation about c (once per certificate and issuer
// in a Verify call).
func (v *verifier) checkOnline(cc *certChecks, c, issuer *Certificate, revoked *outcome) (notRevoked bool) {
	const layout = "2006-01-02 15:04:05Z"
	key := c.Thumbprint() + issuer.Thumbprint()
	st, ok := v.online[key]
	if !ok {
		var err error
		st, err = v.opts.Revocation.CheckRevocation(v.ctx, c, issuer, v.at)
		if err != nil || st == nil {
			detail := "no answer"
			if err != nil {
				detail = err.Error()
			}
			st = &RevocationStatus{State: RevocationIndeterminate, SubIndication: SubTryLater, Detail: detail}
		}
		v.online[key] = st
	}
	where := st.Source
	if st.URL != "" {
		where += " " + st.URL
	}
	if where != "" {
		where = " (" + strings.TrimSpace(where) + ")"
	}
	for _, w := range st.Warnings {
		cc.add(CheckRevocation, StatusWarning, w, nil)
	}
	switch st.State {
	case RevocationGood:
		if st.SoftFail {
			cc.add(CheckRevocation, StatusWarning, "not checked: no revocation data could be fetched, accepted by the soft-fail policy: "+st.Detail, nil)
			return false
		}
		cc.add(CheckRevocation, StatusPassed, "not revoked"+where+": "+st.Detail, nil)
		return true
	case RevocationRevoked:
		if st.RevokedAt.After(v.at) {
			cc.add(CheckRevocation, StatusWarning, fmt.Sprintf("revoked at %s, after the validation time%s", st.RevokedAt.UTC().Format(layout), where), nil)
			return true
		}
		reason := st.Reason
		if reason == "" {
			reason = "unspecified"
		}
		cc.add(CheckRevocation, StatusFailed, fmt.Sprintf("revoked at %s (reason %s)%s", st.RevokedAt.UTC().Format(layout), reason, where), revoked)
		return false
	case RevocationUnknown:
		cc.add(CheckRevocation, StatusFailed, "the responder does not know the certificate (treated as revoked)"+where+": "+st.Detail, revoked)
		return false
	default:
		sub := st.SubIndication
		if sub == "" {
			sub = SubTryLater
		}
		cc.add(CheckRevocation, StatusFailed, "revocation status unknown"+where+": "+st.Detail, &outcome{Indeterminate, sub, 10})
		return false
	}
}

var reasonNames = []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
	"cessationOfOperation", "certificateHold", "7", "removeFromCRL", "privilegeWithdrawn", "aACompromise"}

func reasonName(code int) string {
	if code >= 0 && code < len(reasonNames) {
		return reasonNames[code]
	}
	return fmt.Sprint(code)
}

func checkCriticalExtensions(cc *certChecks, c *Certificate) {
	var bad []string
	for _, oid := range c.UnhandledCriticalExtensions {
		known := false
		for _, k := range knownCriticalExtensions {
			known = known || k.Equal(oid)
		}
		if !known {
			bad = append(bad, oid.String())
		}
	}
	for _, ext := range c.Extensions {
		for _, u := range unenforcedExtensions {
			if ext.Critical && ext.Id.Equal(u.oid) {
				bad = append(bad, u.name+" (not enforced by kep)")
			}
		}
	}
	if len(bad) > 0 {
		cc.add(CheckCriticalExtensions, StatusFailed, "unknown critical extensions: "+strings.Join(bad, ", "), &outChainConstraints)
		return
	}
	cc.add(CheckCriticalExtensions, StatusPassed, "no unknown critical extension", nil)
}

// checkIssuer checks chain[i] (i ≥ 1) as the issuer of chain[i-1].
func checkIssuer(cc *certChecks, chain []*Certificate, i int, anchor bool) {
	c := chain[i]
	switch {
	case c.BasicConstraintsValid && c.IsCA:
		cc.add(CheckBasicConstraints, StatusPassed, "cA is true", nil)
	case anchor && !c.BasicConstraintsValid && c.Version < 3:
		cc.add(CheckBasicConstraints, StatusWarning, fmt.Sprintf("version %d trust anchor without basicConstraints", c.Version), nil)
	case !c.BasicConstraintsValid:
		cc.add(CheckBasicConstraints, StatusFailed, "issues certificates but has no basicConstraints extension", &outChainConstraints)
	default:
		cc.add(CheckBasicConstraints, StatusFailed, "issues certificates but basicConstraints has cA false", &outChainConstraints)
	}
	switch {
	case c.KeyUsage == 0:
		cc.add(CheckKeyCertSign, StatusPassed, "no keyUsage extension", nil)
	case c.KeyUsage&x509.KeyUsageCertSign != 0:
		cc.add(CheckKeyCertSign, StatusPassed, "keyUsage has keyCertSign", nil)
	default:
		cc.add(CheckKeyCertSign, StatusFailed, "keyUsage lacks keyCertSign: "+strings.Join(keyUsageNames(c.KeyUsage), ", "), &outChainConstraints)
	}
	// CA certificates below this one, self-issued ones not counted (RFC 5280 6.1.4).
	below := 0
	for _, x := range chain[1:i] {
		if !bytes.Equal(x.RawSubject, x.RawIssuer) {
			below++
		}
	}
	switch {
	case c.MaxPathLen < 0 || (c.MaxPathLen == 0 && !c.MaxPathLenZero):
		cc.add(CheckPathLength, StatusPassed, fmt.Sprintf("no pathLenConstraint; %d CA certificates below", below), nil)
	case below <= c.MaxPathLen:
		cc.add(CheckPathLength, StatusPassed, fmt.Sprintf("pathLenConstraint %d, %d CA certificates below", c.MaxPathLen, below), nil)
	default:
		cc.add(CheckPathLength, StatusFailed, fmt.Sprintf("pathLenConstraint %d, but %d CA certificates below", c.MaxPathLen, below), &outChainConstraints)
	}
}

func checkKeyUsage(cc *certChecks, c *Certificate, purpose Purpose) {
	ku := strings.Join(keyUsageNames(c.KeyUsage), ", ")
	switch purpose {
	case PurposeAny:
		cc.add(CheckKeyUsage, StatusPassed, "any purpose accepted", nil)
	case PurposeSigning:
		switch {
		case c.KeyUsage == 0 && !hasExtension(c, oidKeyUsage):
			// RFC 5280 restricts a key only through a keyUsage that is
			// present; OpenSSL, Bouncy Castle and Go accept a signer without
			// one, and the field issues such certificates (the TC 26 CMS
			// examples, Rutoken-made signatures: testdata/realworld). A
			// warning, not a failure; a keyUsage that is present and lacks
			// both bits still fails.
			cc.add(CheckKeyUsage, StatusWarning, "no keyUsage extension: the key is not restricted (RFC 5280 4.2.1.3); a qualified certificate carries nonRepudiation or digitalSignature", nil)
		case c.KeyUsage == 0:
			cc.add(CheckKeyUsage, StatusFailed, "keyUsage has no bit set: a signing certificate needs nonRepudiation or digitalSignature", &outChainConstraints)
		case c.KeyUsage&(x509.KeyUsageContentCommitment|x509.KeyUsageDigitalSignature) != 0:
			cc.add(CheckKeyUsage, StatusPassed, "keyUsage "+ku, nil)
		default:
			cc.add(CheckKeyUsage, StatusFailed, "keyUsage "+ku+" has neither nonRepudiation nor digitalSignature", &outChainConstraints)
		}
	case PurposeLogin:
		eku := len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0
		for _, u := range c.ExtKeyUsage {
			eku = eku || u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny
		}
		switch {
		case c.KeyUsage&x509.KeyUsageDigitalSignature == 0:
			cc.add(CheckKeyUsage, StatusFailed, "keyUsage ["+ku+"] lacks digitalSignature, which login needs", &outChainConstraints)
		case !eku:
			cc.add(CheckKeyUsage, StatusFailed, "extKeyUsage "+strings.Join(extKeyUsageNames(c.Certificate), ", ")+" lacks clientAuth, which login needs", &outChainConstraints)
		default:
			cc.add(CheckKeyUsage, StatusPassed, "keyUsage has digitalSignature; extKeyUsage allows clientAuth", nil)
		}
	case PurposeTimeStamping:
		critical := false
		for _, e := range c.Extensions {
			if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
				critical = e.Critical
			}
		}
		switch {
		case len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) != 0:
			cc.add(CheckKeyUsage, StatusFailed, "extKeyUsage "+strings.Join(extKeyUsageNames(c.Certificate), ", ")+" is not timeStamping alone, as a TSA needs", &outChainConstraints)
		case !critical:
			cc.add(CheckKeyUsage, StatusFailed, "the timeStamping extKeyUsage of a TSA must be critical", &outChainConstraints)
		default:
			cc.add(CheckKeyUsage, StatusPassed, "extKeyUsage timeStamping (critical)", nil)
		}
	default:
		cc.add(CheckKeyUsage, StatusFailed, "unknown purpose "+purpose.String(), &outChainConstraints)
	}
}

var oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

// hasExtension reports whether c carries the extension oid.
func hasExtension(c *Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}
