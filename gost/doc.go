// Package gost is the root of kep's pure-Go implementation of the Russian GOST
// cryptographic primitives used in qualified electronic signatures:
//
//   - gost/streebog: the GOST R 34.11-2012 hash (Streebog-256/512) as hash.Hash.
//   - gost/gost341194: the withdrawn GOST R 34.11-94 hash (CryptoPro and test
//     parameter sets), to verify GOST R 34.10-2001 signatures in old archives.
//   - gost/gost3410: GOST R 34.10-2012 (and 2001) signatures on every tc26 and
//     CryptoPro parameter set; private keys are crypto.Signer.
//   - gost/gostkey: the X.509 SubjectPublicKeyInfo and PKCS#8 encodings of those
//     keys, as RFC 9215 specifies and as OpenSSL's gost engine writes them.
//   - gost/gost28147: the GOST 28147-89 cipher with every S-box in use, Magma
//     (GOST R 34.12-2015, 64-bit), and 28147's own modes (ECB, CFB and CNT with
//     CryptoPro key meshing, the imitovstavka MAC).
//   - gost/kuznyechik: Kuznyechik (GOST R 34.12-2015, 128-bit).
//   - gost/mode: GOST R 34.13-2015 CTR and OMAC, ACPKM, CTR-ACPKM, OMAC-ACPKM.
//   - gost/kdf: HMAC-Streebog, PBKDF2 (RFC 9337), KDF_GOSTR3411_2012_256, KDF_TREE.
//   - gost/keywrap: the GOST 28147-89 and CryptoPro key wraps (RFC 4357),
//     KExp15/KImp15.
//
// Nothing here uses cgo. On amd64 with BMI2 and ADX the field
// multiplication for moduli 2^256 − c, 2^512 − c and 2^511 + c (every GOST
// prime but tc26-256-C/D and cryptopro-B/C) runs in assembly
// (gost/internal/field/mul_amd64.s: straight-line, no secret-dependent
// branches or addresses); other CPUs, other moduli and -tags purego use the
// Go code. The signature code is constant time in its secret-dependent parts. The block ciphers use look-up tables indexed by
// key- and data-dependent values (a cache-timing exposure their package docs
// describe); both offer slower constant-time variants for key material
// (gost28147 Cipher.ConstantTime, kuznyechik.NewCipherConstantTime), which
// the RFC 4357 key wraps use.
package gost
