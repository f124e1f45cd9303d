package soft

import "crypto"

// PrivateKey returns the decrypted private key itself, for writing it out
// (kep soft export to a PFX file). The software token has no non-exportable
// flag: whoever holds the PIN owns the keys. The key stays valid after
// logout; callers should drop it as soon as it is written.
func (k *Key) PrivateKey() crypto.Signer { return k.priv }
