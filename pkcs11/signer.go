package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"io"
	"math/big"

	ck "github.com/miekg/pkcs11"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

// Key is a private key on a token. It implements crypto.Signer and
// crypto.MessageSigner, so kep's sign package, crypto/x509 and
// CreateCertificateRequest use it like a key in memory.
//
// Signing logs in first when the token requires it and nobody has (asking
// the Token's UI for the PIN), and asks for the PIN again before each
// signature with a key marked CKA_ALWAYS_AUTHENTICATE. Every signature is
// verified with Public() before it is returned: a token that signs with
// another key than the certificate's, or a faulty signature, gives
// ErrKeyMismatch instead of a bad signature. The rand arguments are
// ignored: the token draws its own randomness.
type Key struct {
	t          *Token
	handle     uint
	id         []byte
	label      string
	pub        crypto.PublicKey
	alwaysAuth bool
}

var _ crypto.MessageSigner = (*Key)(nil)

func (t *Token) newKey(k keyObject, pub crypto.PublicKey) *Key {
	return &Key{t: t, handle: k.handle, id: k.id, label: k.label, pub: pub, alwaysAuth: k.alwaysAuth}
}

// Public returns the public key: *rsa.PublicKey, *ecdsa.PublicKey or
// *gost3410.PublicKey.
func (k *Key) Public() crypto.PublicKey { return k.pub }

// ID returns the key's CKA_ID.
func (k *Key) ID() []byte { return bytes.Clone(k.id) }

// Label returns the key's CKA_LABEL.
func (k *Key) Label() string { return k.label }

// Sign signs a digest computed on the host; see SignContext.
func (k *Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.SignContext(context.Background(), digest, opts)
}

// SignContext signs digest; ctx bounds the wait for the token and the PIN
// prompt (a C call under way cannot be interrupted).
//
//   - RSA: opts.HashFunc() names the hash; PKCS#1 v1.5 builds the
//     DigestInfo on the host and signs it with CKM_RSA_PKCS; an
//     *rsa.PSSOptions selects CKM_RSA_PKCS_PSS with MGF1 of the same hash
//     and a salt as long as the hash when SaltLength is
//     rsa.PSSSaltLengthAuto or rsa.PSSSaltLengthEqualsHash.
//   - ECDSA: CKM_ECDSA; the token's r || s is returned as a DER
//     Ecdsa-Sig-Value, as crypto/ecdsa and kep's verifier expect.
//   - GOST R 34.10-2012: opts.HashFunc() must be 0 (crypto.Hash(0));
//     digest is the Streebog hash as the hash emits it, 32 bytes for
//     CKM_GOSTR3410 or 64 for CKM_GOSTR3410_512 (the length selects; it
//     must fit the key). The result is s || r big-endian, the CMS and
//     X.509 wire form. A token that offers only the hash-on-token
//     mechanisms cannot sign a digest: use SignMessage.
func (k *Key) SignContext(ctx context.Context, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	m, data, err := k.digestMechanism(digest, opts)
	if err != nil {
		return nil, err
	}
	sig, err := k.t.sign(ctx, k, m, data)
	if err != nil {
		return nil, err
	}
	return k.check(sig, digest, opts, m)
}

// SignMessage signs msg; see SignMessageContext.
func (k *Key) SignMessage(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.SignMessageContext(context.Background(), msg, opts)
}

// SignMessageContext signs a whole message. RSA and ECDSA keys hash it on
// the host with opts.HashFunc() and sign the digest. GOST keys take
// crypto.Hash(0) and hash with the Streebog of the key's size: on the host,
// signing the digest with the raw mechanism when the token offers it, else
// on the token with CKM_GOSTR3410_WITH_GOSTR3411_12_256/512 (the whole
// message then goes to the token in one C_Sign). That mechanism is first
// tried without a parameter and, if the token refuses that, with the DER
// Streebog OID as its parameter, the two forms vendors' samples use.
//
// For a CMS signature with signed attributes the message is the DER SET OF
// the signed attributes; for a certificate request, the DER
// CertificationRequestInfo.
func (k *Key) SignMessageContext(ctx context.Context, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	pub, ok := k.pub.(*gost3410.PublicKey)
	if !ok {
		h := crypto.Hash(0)
		if opts != nil {
			h = opts.HashFunc()
		}
		if h == 0 || !h.Available() {
			return nil, fmt.Errorf("pkcs11: %T keys need a hash function in opts, got %v", k.pub, h)
		}
		hh := h.New()
		hh.Write(msg)
		return k.SignContext(ctx, hh.Sum(nil), opts)
	}
	if opts != nil && opts.HashFunc() != 0 {
		return nil, fmt.Errorf("pkcs11: GOST keys hash with Streebog: pass crypto.Hash(0), not %v", opts.HashFunc())
	}
	ps := pub.Params()
	digest := streebogSum(ps, msg)
	mech, onToken, err := gostMessageMechanism(ps, k.t.offers)
	if err != nil {
		return nil, err
	}
	if !onToken {
		return k.SignContext(ctx, digest, crypto.Hash(0))
	}
	m := mechanism{Type: mech}
	sig, err := k.t.sign(ctx, k, m, msg)
	if hasCode(err, ck.CKR_MECHANISM_PARAM_INVALID, ck.CKR_ARGUMENTS_BAD) {
		m.Param = oidDER(gostkey.OIDStreebog256)
		if ps.Size() == 64 {
			m.Param = oidDER(gostkey.OIDStreebog512)
		}
		sig, err = k.t.sign(ctx, k, m, msg)
	}
	if err != nil {
		return nil, err
	}
	return k.check(sig, digest, crypto.Hash(0), m)
}

// digestInfoPrefixes are the DER DigestInfo headers (RFC 8017, section
// 9.2, note 1) that precede the digest in a PKCS#1 v1.5 signature.
var digestInfoPrefixes = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA224: {0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04, 0x1c},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// pssHashes maps a hash to its CKM_SHA* and CKG_MGF1_SHA* values.
var pssHashes = map[crypto.Hash][2]uint{
	crypto.SHA1:   {ck.CKM_SHA_1, ck.CKG_MGF1_SHA1},
	crypto.SHA224: {ck.CKM_SHA224, ck.CKG_MGF1_SHA224},
	crypto.SHA256: {ck.CKM_SHA256, ck.CKG_MGF1_SHA256},
	crypto.SHA384: {ck.CKM_SHA384, ck.CKG_MGF1_SHA384},
	crypto.SHA512: {ck.CKM_SHA512, ck.CKG_MGF1_SHA512},
}

// digestMechanism returns the mechanism and the data to sign for digest.
func (k *Key) digestMechanism(digest []byte, opts crypto.SignerOpts) (mechanism, []byte, error) {
	h := crypto.Hash(0)
	if opts != nil {
		h = opts.HashFunc()
	}
	var m mechanism
	var data []byte
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		if h == 0 || len(digest) != h.Size() {
			return m, nil, fmt.Errorf("pkcs11: RSA signature needs the digest's hash in opts (got %v for %d bytes)", h, len(digest))
		}
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			hp, ok := pssHashes[h]
			if !ok {
				return m, nil, fmt.Errorf("pkcs11: RSA-PSS with %v is not supported", h)
			}
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthAuto || salt == rsa.PSSSaltLengthEqualsHash {
				salt = h.Size()
			}
			if salt < 0 {
				return m, nil, fmt.Errorf("pkcs11: RSA-PSS salt length %d", pss.SaltLength)
			}
			m = mechanism{Type: ck.CKM_RSA_PKCS_PSS, PSS: &pssParams{Hash: hp[0], MGF: hp[1], SaltLen: uint(salt)}}
			data = digest
			break
		}
		prefix, ok := digestInfoPrefixes[h]
		if !ok {
			return m, nil, fmt.Errorf("pkcs11: RSA PKCS#1 v1.5 with %v is not supported", h)
		}
		m, data = mechanism{Type: ck.CKM_RSA_PKCS}, append(bytes.Clone(prefix), digest...)
	case *ecdsa.PublicKey:
		if len(digest) == 0 || (h != 0 && len(digest) != h.Size()) {
			return m, nil, fmt.Errorf("pkcs11: ECDSA digest of %d bytes for %v", len(digest), h)
		}
		m, data = mechanism{Type: ck.CKM_ECDSA}, digest
	case *gost3410.PublicKey:
		if h != 0 {
			return m, nil, fmt.Errorf("pkcs11: GOST keys sign Streebog digests: pass crypto.Hash(0), not %v", h)
		}
		mech, err := gostDigestMechanism(pub.Params(), len(digest), k.t.offers)
		if err != nil {
			return m, nil, err
		}
		return mechanism{Type: mech}, digest, nil
	default:
		return m, nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, k.pub)
	}
	if ok, known := k.t.offers(m.Type); known && !ok {
		return m, nil, fmt.Errorf("%w: the token does not offer %s", ErrMechanismInvalid, mechanismName(m.Type))
	}
	return m, data, nil
}

// sign runs C_SignInit and C_Sign with the key, logging in as needed.
func (t *Token) sign(ctx context.Context, k *Key, m mechanism, data []byte) ([]byte, error) {
	if err := t.ensureLogin(ctx); err != nil {
		return nil, err
	}
	var sig []byte
	err := t.do(ctx, func(c cryptoki, s uint) (err error) {
		if err := c.SignInit(s, m, k.handle); err != nil {
			return err
		}
		if k.alwaysAuth {
			if err := t.contextLogin(ctx, c, s, k); err != nil {
				// C_Sign ends the signing operation whatever it returns:
				// without the per-use login it fails, and the session
				// is free for the next operation.
				_, _ = c.Sign(s, data)
				return err
			}
		}
		sig, err = c.Sign(s, data)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("key %s, %s: %w", keyName(k.label, k.id), mechanismName(m.Type), err)
	}
	return sig, nil
}

// contextLogin gives the PIN for one use of a CKA_ALWAYS_AUTHENTICATE key
// (CKU_CONTEXT_SPECIFIC), between C_SignInit and C_Sign.
func (t *Token) contextLogin(ctx context.Context, c cryptoki, s uint, k *Key) error {
	ti, err := c.GetTokenInfo(t.slot)
	if err != nil {
		return err
	}
	pin, err := t.pin(ctx, ti, keyName(k.label, k.id))
	defer clear(pin)
	if err != nil {
		return err
	}
	return t.login(c, s, ck.CKU_CONTEXT_SPECIFIC, pin)
}

// check converts the token's signature to kep's wire form and verifies it
// with the public key.
func (k *Key) check(sig, digest []byte, opts crypto.SignerOpts, m mechanism) ([]byte, error) {
	var ok bool
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		if m.PSS != nil {
			ok = rsa.VerifyPSS(pub, opts.HashFunc(), digest, sig, &rsa.PSSOptions{SaltLength: int(m.PSS.SaltLen)}) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(pub, opts.HashFunc(), digest, sig) == nil
		}
	case *ecdsa.PublicKey:
		der, err := ecdsaDER(pub, sig)
		if err != nil {
			return nil, err
		}
		sig, ok = der, ecdsa.VerifyASN1(pub, digest, der)
	case *gost3410.PublicKey:
		ok = pub.VerifyDigest(digest, sig) == nil
	}
	if !ok {
		return nil, fmt.Errorf("%w: the signature token %s made with key %s (%s) does not verify with the key's public key", ErrKeyMismatch, k.t.info, keyName(k.label, k.id), mechanismName(m.Type))
	}
	return sig, nil
}

// ecdsaDER converts CKM_ECDSA output, r || s each as long as the curve's
// order, to a DER Ecdsa-Sig-Value.
func ecdsaDER(pub *ecdsa.PublicKey, raw []byte) ([]byte, error) {
	n := (pub.Curve.Params().N.BitLen() + 7) / 8
	if len(raw) != 2*n {
		return nil, fmt.Errorf("pkcs11: CKM_ECDSA signature of %d bytes, want %d", len(raw), 2*n)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(raw[:n]))
		b.AddASN1BigInt(new(big.Int).SetBytes(raw[n:]))
	})
	return b.Bytes()
}
