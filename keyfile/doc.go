// Package keyfile groups the readers and writers of the key files users keep
// outside tokens: CryptoPro CSP key containers (keyfile/cryptopro) and GOST
// PKCS#12/PFX files (keyfile/pfx). Each sub-package returns the private key as
// a *gost3410.PrivateKey (a crypto.Signer) with its certificate, and never
// writes to the file it read.
package keyfile
