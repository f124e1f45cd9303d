// Package login lets a relying party log users in with their qualified
// certificate (вход по КЭП) without closed browser plug-ins: it issues
// single-use challenges, builds the signed responses on the client side, and
// verifies them into an Identity (ФИО, СНИЛС, ИНН, ОГРН …) or a typed refusal.
//
// # Flow
//
//  1. The server calls Issuer.Challenge(ctx, origin): a 32-byte random nonce
//     (base64url), the server's time and an expiry (DefaultTTL, 5 minutes),
//     bound to the site's origin; the nonce goes into a NonceStore.
//  2. The client (the kep agent, or `kep login sign`) signs a response with
//     Sign: a CMS attached CAdES-BES signature made with the user's key.
//     Before signing it compares its clock with the challenge's serverTime
//     and returns a *SkewError when they differ by more than 5 minutes.
//  3. The server calls Verifier.Verify(ctx, origin, response) with the
//     origin the request came to.
//
// # Response formats
//
// A response is JSON: {"format":"bound"|"esia-compatible","cms":"<base64>"}
// (standard base64 with padding; at most MaxResponseSize bytes in all).
//
// "bound" (the default, modelled on Web eID's token): the signed content is
// the canonical JSON document
//
//	{"format":"kep-login-v1","origin":"https://portal.example.ru","nonce":"<nonce>","serverTime":"2026-01-02T15:04:05Z","clientTime":"2026-01-02T15:04:07Z"}
//
// with exactly these members in this order, no white space, the origin
// normalised (NormalizeOrigin), the nonce as issued and the times RFC 3339 UTC
// with whole seconds. serverTime echoes the challenge, clientTime is the
// client's clock. Anything else (another order, spaces, extra members, another
// time form) is refused as FORMAT. Because the origin is inside what the user
// signed, a response phished by one site and relayed to another fails there.
// An agent must put the origin the browser reports (the Origin header) in the
// document, never one the page supplies.
//
// "esia-compatible": the signed content is the challenge string — the nonce —
// exactly as received, as ЕСИА has Госплагин sign its digital_challenge. The
// origin is then bound only by the nonce store (the nonce was issued for one
// origin), so a relayed response is not detected when the relaying site got
// its challenge from the real one. Verifier accepts this format only with
// AllowESIACompatible.
//
// # Verification
//
// Verify parses the response, verifies the CMS with package verify (purpose
// login: keyUsage digitalSignature and extKeyUsage clientAuth or none; the
// CAdES-BES profile, so signingTime is required; validation time now, never
// the signer's signingTime), reads the nonce (and the origin) from the
// signed content and takes the nonce from the store — a nonce is consumed
// even when the login is then refused, so a response can never be tried
// twice. Then: the nonce was known and unused, is not expired, was issued for
// the caller's origin (and, bound, names it); signingTime and clientTime lie
// within MaxSkew (5 minutes) of the server's clock; the certificate path
// reaches a trusted root, is valid now and not revoked (CRLs given offline,
// plus an optional RevocationChecker); the leaf fits login. The zero Verifier
// (with a Store) is strict: no trust anchors, so nothing passes, and
// esia-compatible responses are refused.
//
// Warning: without CRLs or a RevocationChecker revocation is not checked;
// Identity.Revocation then says "not_checked". Set RequireRevocation to
// refuse such logins.
//
// # Refusals
//
// A refused login is a *RefusalError with a stable Reason, the DSS
// indication and sub-indication when the signature or the chain failed, and
// a Detail for logs. When several checks fail, the first in this table wins.
//
//	reason             meaning                                                 DSS (typical)
//	FORMAT             unreadable response, unknown format, not CAdES-BES,     TOTAL_FAILED/FORMAT_FAILURE
//	                   detached, non-canonical document, not one signer
//	SIGNATURE_INVALID  the signature or the content digest does not verify     TOTAL_FAILED/HASH_FAILURE,
//	                   (the content was changed), unsupported algorithm        SIG_CRYPTO_FAILURE
//	NONCE_UNKNOWN      the nonce was never issued here or is long gone; Detail
//	                   starts "replayed" (Err: ErrNonceReplayed) when it was
//	                   already used
//	NONCE_EXPIRED      the challenge's TTL has passed
//	ORIGIN_MISMATCH    the challenge was issued for, or the document names,
//	                   another origin than the one the response came to
//	CLOCK_SKEW         signingTime (or clientTime) is more than MaxSkew from
//	                   the server's clock
//	CERT_NOT_YET_VALID a certificate of the path is not valid yet              TOTAL_FAILED/NOT_YET_VALID
//	CHAIN_UNTRUSTED    no path to a trusted root, a broken or forged path      INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND,
//	                   (bad CA signature, CA constraints)                      TOTAL_FAILED/CERTIFICATE_CHAIN_GENERAL_FAILURE
//	KEY_USAGE          the leaf lacks digitalSignature, or has extKeyUsage     INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE
//	                   without clientAuth
//	CERT_REVOKED       a CRL or the RevocationChecker shows it revoked         INDETERMINATE/REVOKED_NO_POE, REVOKED_CA_NO_POE
//	CERT_EXPIRED       a certificate of the path has expired                   INDETERMINATE/OUT_OF_BOUNDS_NO_POE
//	INDETERMINATE      the answer could not be reached: revocation unknown or  INDETERMINATE/TRY_LATER, REVOKED_NO_POE
//	                   unreachable, unsupported algorithm in the path
//
// (Among the certificate reasons the chain's own order decides, see package
// certs.) Other errors from Verify (a failing store, a cancelled context) are
// not refusals: the caller should answer "try again later".
//
// # Nonce stores
//
// MemoryStore for one process; FileStore, a directory shared by processes on
// one machine (the default of the kep command: $KEP_NONCE_DIR or the user's
// cache directory kep/nonces); RedisStore for a fleet of servers. In each,
// Take is atomic: of several verifiers racing for one nonce, exactly one gets
// it. OpenStore picks one from a string.
package login
