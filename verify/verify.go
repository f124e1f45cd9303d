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
//
// Files: verify.go (the entry point and content hashing), signer.go (one
// signer and its signed attributes), timestamp.go (the signature and CAdES-C
// time-stamps), longterm.go (certificate/revocation values and references),
// report.go (the result types).
package verify

import (
	"bytes"
	"context"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/ctxio"
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
	// ProfileXL also requires CAdES-X Long (Type 1 or Type 2): complete
	// references matched by certificate and revocation values and a valid
	// CAdES-C or certCRL time-stamp, so that the signature can be validated
	// later without network. A signer below it is INDETERMINATE /
	// SIG_CONSTRAINTS_FAILURE with a failed LEVEL check.
	ProfileXL
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
	// ContentDigest, with ContentDigestAlg, stands for a detached content
	// that was hashed elsewhere (hash-on-page signatures, CAdESCOM's
	// VerifyHash) when Content is nil: a signer using another digest
	// algorithm fails its messageDigest check.
	ContentDigest    []byte
	ContentDigestAlg *certs.Digest
	// Purpose of the signer's certificate (zero value: signing).
	Purpose certs.Purpose
	Profile Profile
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
	contentTimestampDigests(sd, needed)
	digests, contentCheck, err := hashContent(ctx, sd, opts.Content, needed)
	if err != nil {
		return nil, err
	}
	if sd.EContent == nil && opts.Content == nil && opts.ContentDigest != nil && opts.ContentDigestAlg != nil {
		digests = map[string][]byte{opts.ContentDigestAlg.Name: opts.ContentDigest}
		contentCheck = Check{Code: "CONTENT", Status: Passed, Detail: "detached, digest supplied"}
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

// noAnchorTables, set only by this package's benchmarks (export_test.go),
// makes Verify check every signature from scratch, as OpenSSL does, so that
// `make bench` compares the same work (op cms-verify/<name>).
var noAnchorTables bool

// precomputeAnchors builds the comb tables of the trust anchors' GOST keys:
// callers keep their roots for many verifications, and every certificate
// signature a root checks is then about three times cheaper.
func precomputeAnchors(roots []*certs.Certificate) {
	if noAnchorTables {
		return
	}
	for _, r := range roots {
		if k, ok := r.PublicKey.(*gost3410.PublicKey); ok {
			k.Precompute()
		}
	}
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
