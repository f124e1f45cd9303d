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
//
// Nothing here uses cgo or assembly; secret-dependent code is constant time.
package gost
