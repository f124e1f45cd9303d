// Package pkcs11 uses keys on PKCS#11 tokens — Rutoken, JaCarta, SafeNet
// eToken, smart cards through OpenSC, SoftHSM — as crypto.Signer values that
// kep's sign package and crypto/x509 use unchanged, in place of the closed
// browser plug-ins Russian qualified signatures (КЭП) usually need.
//
// # Use
//
//	st := pkcs11.Discover(ctx)                         // which modules load, with their tokens
//	m, err := pkcs11.Open(ctx, "/usr/lib/librtpkcs11ecp.so")
//	defer m.Close()
//	tok, err := m.OpenToken(ctx, pkcs11.Selector{Label: "Rutoken ECP"}, ui)
//	ids, err := tok.Identities(ctx)                    // certificates matched to keys by CKA_ID
//	key, err := tok.FindKey(ctx, id)                   // logs in through ui when needed
//	sig, err := sign.Sign(ctx, content, key, cert, sign.Options{})
//
// The PIN comes from the caller's UI.RequestPIN callback; the package never
// reads a terminal and never logs a PIN.
//
// # Modules
//
// Discover tries, in order: paths given explicitly, the user's module list
// and the vendors' usual install locations on Linux, macOS and Windows
// (Rutoken librtpkcs11ecp / rtPKCS11ECP.dll, JaCarta libjcPKCS11-2, SafeNet
// libeTPkcs11 / eTPKCS11.dll, OpenSC opensc-pkcs11, SoftHSM2 libsofthsm2,
// p11-kit-proxy). It reports every module it tried, with the loader's or
// C_Initialize's error for those that fail. The module list is
// kep/modules.json in the user's config directory (see DefaultConfigFile):
// a JSON array of library paths,
//
//	["/opt/aktivco/rutokenecp/x86_64/librtpkcs11ecp.so", "C:\\Vendor\\vendor-pkcs11.dll"]
//
// Relative paths are taken from the file's directory; bare names are
// searched for by the system loader.
//
// # Algorithms
//
// RSA (PKCS#1 v1.5 with the DigestInfo built on the host and
// CKM_RSA_PKCS; PSS with CKM_RSA_PKCS_PSS), ECDSA on P-256, P-384 and P-521
// (CKM_ECDSA; r || s converted to DER) and GOST R 34.10-2012 256 and 512
// bits. GOST digests are computed on the host and signed with the raw
// CKM_GOSTR3410 / CKM_GOSTR3410_512 (the digest as the hash emits it,
// signature s || r big-endian: kep's wire form). Tokens that offer only
// CKM_GOSTR3410_WITH_GOSTR3411_12_256/512 (hashing on the token) need the
// message instead of its digest: Key implements crypto.MessageSigner, and
// SignMessage picks the mechanism. GOST R 34.10-2001 keys are refused.
//
// # Warnings
//
//   - A PKCS#11 module is native code loaded into the process: a crashing
//     or malicious vendor library takes the process with it. Load only
//     libraries you trust, and only from paths users cannot write to.
//   - PIN tries are limited and a locked PIN needs the security officer.
//     Warn the user while TokenInfo.PINCountLow or PINFinalTry is set (they
//     are in every PINRequest). Login never attempts a login the token says
//     is locked, and refuses empty or out-of-range PINs without sending them,
//     but it cannot know a try count the token does not report: SoftHSM,
//     for one, never locks and only ever sets CKF_USER_PIN_COUNT_LOW.
//   - The PIN is passed to the module through C memory this package does
//     not control; the slice from UI.RequestPIN is zeroed after use.
//   - One C_Initialize per library and process: Modules opened on the same
//     library share it (reference-counted), and the last Close calls
//     C_Finalize. Other code in the process that uses the same library
//     directly shares its login state, and a C_Finalize there ends every
//     session here. p11-kit-proxy is such code: it loads the modules
//     registered with p11-kit into the process, so do not open a module both
//     directly and through the proxy.
//   - A key marked CKA_ALWAYS_AUTHENTICATE asks UI.RequestPIN before every
//     signature (PINRequest.Key names it); keep that prompt distinct from the
//     token login.
//   - Calls on one token are serialised; a C call under way cannot be
//     cancelled, so contexts bound the waiting around it, not the call. A
//     removed token makes every later call on its Token fail with
//     ErrTokenRemoved: open it again.
//   - Identities match certificates to keys by CKA_ID and compare public
//     keys; every signature is also verified on the host before it is
//     returned, so a key that does not belong to its certificate is reported
//     (ErrKeyMismatch), never used.
//   - A build without cgo compiles, but Open and Discover report
//     ErrCryptokiNeedsCgo.
package pkcs11
