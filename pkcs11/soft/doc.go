// Package soft is a software token: keys and certificates kept in a
// directory, the private keys encrypted under a PIN, with the PIN try
// counter of a hardware token. It gives kep (and, through the PKCS#11 module
// in pkcs11/module, any PKCS#11 application) GOST R 34.10-2012 256 and 512,
// RSA and ECDSA keys as crypto.Signer values without a Rutoken or JaCarta —
// for tests, development and users who accept a key on disk.
//
// # Use
//
//	err := soft.Init(dir, pin, "my token")
//	tok, err := soft.Open(dir)
//	defer tok.Close()
//	err = tok.Login(pin)
//	obj, err := tok.ImportPEM(keyPEM, certPEM, "Иванов")   // or ImportPKCS12, ImportKey, GenerateKey
//	key, err := tok.Signer(obj.ID)                          // a crypto.Signer
//	sig, err := sign.Sign(ctx, content, key, obj.Certificate, sign.Options{})
//
// # Layout on disk
//
//	token.json      label, serial, KDF parameters and salt, the wrapped master key
//	pin.json        the count of failed PIN tries
//	keys/<ID>.json  one per key: CKA_ID, label, public key, certificates, encrypted private key
//	.lock           flock(2) lock file (LockFileEx on Windows)
//
// Every file is replaced atomically (written beside, synced, renamed), and
// every operation holds the lock file — shared to read, exclusive to write —
// so several processes may use one token.
//
// # Security
//
//   - The PIN is stretched with scrypt (N = 2^15, r = 8, p = 1, a 32-byte
//     random salt; about 32 MiB and tens of milliseconds per try) into a key
//     that opens, with XChaCha20-Poly1305, a random 256-bit master key. The
//     master key encrypts each private key (PKCS#8) with XChaCha20-Poly1305
//     and a random nonce; the associated data binds the ciphertext to the
//     token serial, the key's CKA_ID and its public key, so blobs cannot be
//     swapped between keys or tokens unnoticed.
//   - Protected: the private keys, against anyone without the PIN.
//     Not protected: labels, CKA_IDs, public keys and certificates are stored
//     in clear and are not authenticated (anyone who can write the directory
//     can change them; a changed public key makes its private key fail to
//     decrypt, and a certificate whose key is not the stored public key is
//     refused, so a key is never used with a wrong certificate). Keys are in
//     process memory in clear while the token is logged in.
//   - What is read from the directory is bounded, against a damaged or
//     hostile file: token.json at most 64 KiB, pin.json 4 KiB, a key file
//     1 MiB, regular files only; the scrypt parameters in token.json at most
//     256 MiB of memory and 16 times the work of Init's. Anything else is
//     ErrCorrupt, found before a PIN is derived.
//   - PIN tries: after 10 consecutive wrong PINs the token is locked and
//     Login refuses without deriving anything (pkcs11.ErrPINLocked). The
//     counter is incremented and synced to disk BEFORE the PIN is checked and
//     reset only by a correct PIN, so killing the process mid-check costs the
//     try. The counter guards against guessing through this package and the
//     PKCS#11 module only: whoever can copy the directory can attack the PIN
//     offline, limited by the scrypt cost alone, so a short PIN gives no real
//     protection to a stolen directory. Keep the directory on an encrypted
//     disk, readable by its owner only (it is created with mode 0700).
//   - There is no security-officer PIN: a locked token cannot be unlocked
//     through this package. The keys are still there, encrypted under the
//     user PIN; an administrator who knows the PIN may reset the count by
//     writing {"failures":0} to pin.json, which is exactly the offline attack
//     described above. Back up the keys elsewhere if losing them matters.
//   - Import reads PKCS#12 files with RSA and ECDSA keys (the legacy 3DES/RC2
//     encryption golang.org/x/crypto/pkcs12 supports; `openssl pkcs12 -export
//     -legacy` or -keypbe/-certpbe PBE-SHA1-3DES) and PEM key and
//     certificate files as OpenSSL writes them. GOST PFX files from
//     CryptoPro (GOST 28147-89/Kuznyechik encryption, CryptoPro key
//     containers) are out of scope: export the key with the gost engine to
//     PKCS#8 PEM first.
//
// Errors are pkcs11's sentinel errors (ErrPINIncorrect, ErrPINLocked,
// ErrPINLenRange, ErrNotLoggedIn, ErrKeyNotFound, ErrKeyMismatch,
// ErrTokenNotPresent, ErrTokenRemoved, ErrClosed, ErrUnsupportedKey) where one
// fits, else ErrExists and ErrCorrupt; test with errors.Is.
package soft
