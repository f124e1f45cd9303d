// Package revocation finds out whether a certificate was revoked, from its
// issuer's OCSP responder and CRLs, and says so only when the answer can be
// relied on.
//
// A [Checker] checks one link of a chain, a certificate and the certificate
// that issued it; the caller checks every link (leaf and intermediate CAs)
// with the same Checker. The answer is a [Status] whose State is Good,
// Revoked, Unknown or Indeterminate, never a boolean: a responder that cannot
// be reached, a response that is stale, for another certificate, signed by a
// key without authority, or a CRL that its issuer did not sign, all give
// Indeterminate with the DSS sub-indication TRY_LATER (or
// REVOCATION_OUT_OF_BOUNDS_NO_POE for data issued after the validation time)
// and the reason in Detail.
//
// OCSP responses are parsed here, not by golang.org/x/crypto/ocsp, because
// that package cannot verify GOST R 34.10-2012 signatures. A response is used
// only when its signature verifies with the issuer's key or with a delegated
// responder certificate that the issuer signed for OCSPSigning, its
// SingleResponse has the CertID that was asked for (hash algorithm, issuer
// name and key hashes, serial), the nonce sent comes back (when it comes back
// at all, or always under Policy.RequireNonce) and thisUpdate/nextUpdate are
// within Policy.MaxSkew of the validation time. The CertID is hashed with
// SHA-1, as `openssl ocsp` does by default (with or without the gost engine);
// for an issuer with a GOST key a second request with Streebog-256 CertID
// hashes (what `openssl ocsp -md_gost12_256` sends, and RFC 9215 responders
// may expect) is made when the first gives no definite answer.
//
// CRLs are fetched over HTTP from the certificate's CRL distribution points,
// checked with [certs.CRL.CheckSignatureFrom] against the issuer, and
// applied together with a delta CRL when a freshestCRL extension names one.
// With Checker.CacheDir set they are kept on disk (written atomically) and
// used until their nextUpdate without a request; afterwards, or when
// Policy.CRLRefresh says so, they are revalidated with a conditional GET.
//
// Warning: soft-fail (Policy.SoftFail) turns "no revocation data could be
// fetched" into Good with a warning, which is what an attacker who blocks the
// network wants. It never turns an invalid response into Good, but use it
// only where availability matters more than the revocation check.
//
// With Checker.Evidence every CRL and OCSP response used is written to a
// directory (record) or read only from there, without network (replay), so a
// verification can be reproduced later: replay with Checker.Now set to the
// original validation time.
package revocation
