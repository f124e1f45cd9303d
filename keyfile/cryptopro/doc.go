// Package cryptopro reads CryptoPro CSP key containers: the folders (often
// named like "abcdefgh.000", on a flash drive, a Rutoken Lite or under
// /var/opt/cprocsp/keys/<user>) holding header.key, masks.key, masks2.key,
// name.key, primary.key and primary2.key.
//
// The format is CryptoPro's own and undocumented; what this package knows of
// it comes from public reverse-engineering write-ups and several independent
// open implementations that agree (li0ard's cpfx_ts and ckey, kmvi's
// cp-extract-data, kov-serg's get-cpcert, a 2016 Habr article), checked
// against a real container made by CryptoPro CSP:
//
//   - header.key is DER: the container's attributes, the key's parameters
//     (attribute bits incl. "exportable", the key-agreement algorithm, curve
//     and digest OIDs), optionally the certificate, and 8-byte fingerprints of
//     the public keys (the first 8 bytes of the little-endian X coordinate);
//   - masks.key is SEQUENCE { mask, salt, mac }, primary.key SEQUENCE { key };
//   - the key-encryption key comes from the password by CryptoPro's iterated
//     hash over the salt (Streebog-256 for 2012 keys, GOST R 34.11-94 with the
//     CryptoPro parameters for 2001 keys; 2,000 rounds, 2 for an empty
//     password), the masked key is GOST 28147-89 ECB encrypted under the
//     tc26-Z S-box (CryptoPro-A for 2001 keys), and the private key is the
//     decrypted value times the inverse of the mask modulo q.
//
// A wrong password is found by the fingerprint check (ErrWrongPassword): the
// format has no other reliable integrity check of the key.
//
// Side channels: the unmasking (a multiplication modulo q) uses math/big,
// which is not constant-time, and GOST 28147-89 is table-based; both run once
// per use, on the user's own machine.
//
// The package only reads: Open never modifies a container, and nothing here
// writes one (the tests carry their own fixture writer).
package cryptopro
