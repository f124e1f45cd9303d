// Package certs reads and validates X.509 certificates and CRLs of the Russian
// qualified-signature PKI (КЭП), where crypto/x509 stops: it parses GOST
// R 34.10-2012 keys, checks GOST, RSA, ECDSA and Ed25519 signatures on
// certificates and CRLs, reads the fields of qualified certificates (63-FZ and
// FSB order 795: СНИЛС, ИНН, ОГРН, signing tools, identification kind …) with
// their checksums, and builds and validates certificate paths with a report
// per check in the vocabulary of ETSI EN 319 102-1 and EU DSS.
//
// crypto/x509 parses GOST certificates structurally (PublicKeyAlgorithm and
// SignatureAlgorithm Unknown, PublicKey nil) and cannot verify them
// (golang/go#21858); [Certificate] embeds its parse and adds the rest.
// GOST R 34.10-2001 keys are parsed and named, but their signatures are
// refused with [ErrUnsupportedAlgorithm]: the algorithm was withdrawn in 2019.
//
// # Validation
//
// [Verify] builds every path from the leaf to a trust anchor (issuers found by
// authorityKeyIdentifier/subjectKeyIdentifier when both are present, else by
// name; same-named CAs are all tried; depth and the number of paths are
// bounded), validates each at [VerifyOptions].At and reports the best one with
// the reasons the others failed. The zero [VerifyOptions] is strict: with no
// roots no chain is found, the purpose is signing, the time is now. Nothing is
// fetched from the network; revocation is checked only against the CRLs given,
// and a certificate without one is reported as not checked, not as failed —
// callers that require revocation data must look at the REVOCATION checks.
// Certificate policies are not processed; the critical extensions kep does
// not enforce (nameConstraints, policyConstraints, policyMappings,
// inhibitAnyPolicy) fail the CRITICAL_EXTENSIONS check.
//
// Checks, each reported per certificate with status passed, failed, warning
// or not_checked, and the result a failure leads to:
//
//	code                 what is checked                                        on failure
//	CERT_SIGNATURE       the issuer's key verifies the certificate's signature  TOTAL_FAILED / SIG_CRYPTO_FAILURE
//	                     (an unknown algorithm: cannot be checked)              INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE
//	ALGORITHM_CONSTRAINTS the signature's algorithm is acceptable at At         INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE
//	                     (AlgorithmConstraints: GOST 2001, RSA < 2048, SHA-1;
//	                     reported only when a row applies, with its Reason)
//	NAME_CHAINING        issuer name = the issuer's subject, byte for byte      TOTAL_FAILED / CERTIFICATE_CHAIN_GENERAL_FAILURE
//	AKI_SKI              authorityKeyIdentifier = the issuer's subjectKeyId     TOTAL_FAILED / CERTIFICATE_CHAIN_GENERAL_FAILURE
//	VALIDITY             notBefore ≤ At ≤ notAfter, for every certificate       not yet valid: TOTAL_FAILED / NOT_YET_VALID
//	                     including the anchor                                   expired: INDETERMINATE / OUT_OF_BOUNDS_NO_POE, or
//	                                                                            OUT_OF_BOUNDS_NOT_REVOKED when a usable CRL shows
//	                                                                            every expired certificate unrevoked
//	REVOCATION           not on a usable CRL of the issuer at At; unusable      leaf: INDETERMINATE / REVOKED_NO_POE
//	                     CRLs (bad signature, At outside thisUpdate…nextUpdate) CA:   INDETERMINATE / REVOKED_CA_NO_POE
//	                     are reported as warnings and ignored
//	CRITICAL_EXTENSIONS  no critical extension kep does not process             INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE
//	BASIC_CONSTRAINTS    every issuer has cA true (a v1 anchor: warning)        INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE
//	KEY_CERT_SIGN        every issuer's keyUsage, when present, has keyCertSign INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE
//	PATH_LENGTH          pathLenConstraint ≥ the non-self-issued CAs below      INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE
//	KEY_USAGE            the leaf fits the Purpose (see [Purpose])              INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE
//	TRUST_ANCHOR         the path ends at a certificate in Roots                INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND
//
// When several checks fail, the first in this order decides: SIG_CRYPTO_FAILURE,
// CERTIFICATE_CHAIN_GENERAL_FAILURE, NOT_YET_VALID, CHAIN_CONSTRAINTS_FAILURE,
// NO_CERTIFICATE_CHAIN_FOUND, CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
// REVOKED_NO_POE, REVOKED_CA_NO_POE, OUT_OF_BOUNDS_*; a path that reaches no
// anchor is always NO_CERTIFICATE_CHAIN_FOUND. No failure: TOTAL_PASSED.
//
// Warning: a TOTAL_PASSED chain says the certificate was valid at At. Pass
// the time a trusted timestamp proves, never a signer's own signingTime,
// which the signer can backdate.
package certs
