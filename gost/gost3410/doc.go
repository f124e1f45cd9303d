// Package gost3410 implements GOST R 34.10-2012 digital signatures (and the
// 2001 variant, which is the same algorithm on 256-bit curves) on every
// parameter set published by TC 26 and CryptoPro: tc26 256 A–D, tc26 512
// test/A/B/C, CryptoPro A/B/C, XchA/XchB and the 2001 test set. The twisted
// Edwards sets (tc26-256-A, tc26-512-C) are computed in their equivalent short
// Weierstrass form, which is also the form of their keys and signatures.
//
// Conventions, the ones OpenSSL's gost engine, PKCS#11 tokens and CMS use:
//
//   - The digest passed to Sign and Verify is the Streebog output exactly as
//     the hash emits it (what `openssl dgst -md_gost12_256 -binary` prints),
//     32 bytes for 256-bit sets and 64 for 512-bit ones. It is read as a
//     LITTLE-endian integer e; e ≡ 0 (mod q) is replaced by 1 as the standard says.
//   - A signature is s || r, each BIG-endian and zero-padded to the set's size
//     (64 or 128 bytes in all): the PKCS#11 C_Sign output and the content of
//     CMS SignerInfo.signature and of an X.509 signatureValue.
//   - A public key is X || Y, each coordinate LITTLE-endian (the content of the
//     OCTET STRING in SubjectPublicKeyInfo and of PKCS#11 CKA_VALUE).
//   - A private key is the LITTLE-endian scalar d (PKCS#8 and CKA_VALUE).
//
// Signing reads a fresh nonce from the given random source (crypto/rand when
// nil) and computes with constant-time field arithmetic and a fixed-window
// comb that reads every table entry: no branch or memory index depends on the
// key or the nonce. Verification works on public data and uses faster
// variable-time methods.
package gost3410
