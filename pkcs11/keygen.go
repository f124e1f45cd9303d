package pkcs11

import (
	"context"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"

	ck "github.com/miekg/pkcs11"

	"github.com/kepkit/kep/gost/gost3410"
)

// KeyType is the kind of key pair GenerateKey makes.
type KeyType int

// The key types GenerateKey makes.
const (
	KeyRSA   KeyType = iota + 1 // RSA, CKM_RSA_PKCS_KEY_PAIR_GEN
	KeyECDSA                    // ECDSA, CKM_EC_KEY_PAIR_GEN
	KeyGOST                     // GOST R 34.10-2012, CKM_GOSTR3410_KEY_PAIR_GEN or CKM_GOSTR3410_512_KEY_PAIR_GEN
)

// KeyOptions describe a key pair to generate.
type KeyOptions struct {
	Type KeyType
	// RSABits is the RSA modulus size: 2048 when zero, at least 2048.
	RSABits int
	// Curve is the ECDSA curve: P-256 when nil (P-384 and P-521 too).
	Curve elliptic.Curve
	// ParamSet is the GOST parameter set: gost3410.CryptoProA when nil.
	// A 512-bit set makes a GOST R 34.10-2012 512-bit key.
	ParamSet *gost3410.ParamSet
	// ID is the CKA_ID of both objects: 16 random bytes when empty. An ID
	// already on the token is refused.
	ID []byte
	// Label is the CKA_LABEL of both objects.
	Label string
}

// GenerateKey generates a key pair on the token (logging in if needed): a
// private key that is sensitive, not extractable and may sign, and its
// public key object. Both are token objects with opts.ID, so a certificate
// written later with the same CKA_ID pairs with them. GOST keys get
// CKA_GOSTR3410_PARAMS and CKA_GOSTR3411_PARAMS (the Streebog of the key's
// size) on both objects.
func (t *Token) GenerateKey(ctx context.Context, opts KeyOptions) (*Key, error) {
	id := opts.ID
	if len(id) == 0 {
		id = make([]byte, 16)
		rand.Read(id)
	}
	pub := []attribute{
		{ck.CKA_CLASS, uint(ck.CKO_PUBLIC_KEY)},
		{ck.CKA_TOKEN, true},
		{ck.CKA_PRIVATE, false},
		{ck.CKA_VERIFY, true},
		{ck.CKA_ID, id},
	}
	priv := []attribute{
		{ck.CKA_CLASS, uint(ck.CKO_PRIVATE_KEY)},
		{ck.CKA_TOKEN, true},
		{ck.CKA_PRIVATE, true},
		{ck.CKA_SENSITIVE, true},
		{ck.CKA_EXTRACTABLE, false},
		{ck.CKA_SIGN, true},
		{ck.CKA_ID, id},
	}
	if opts.Label != "" {
		pub = append(pub, attribute{ck.CKA_LABEL, opts.Label})
		priv = append(priv, attribute{ck.CKA_LABEL, opts.Label})
	}
	var mech, keyType uint
	switch opts.Type {
	case KeyRSA:
		bits := opts.RSABits
		if bits == 0 {
			bits = 2048
		}
		if bits < 2048 {
			return nil, fmt.Errorf("%w: RSA keys of %d bits (at least 2048)", ErrUnsupportedKey, bits)
		}
		mech, keyType = ck.CKM_RSA_PKCS_KEY_PAIR_GEN, ck.CKK_RSA
		pub = append(pub, attribute{ck.CKA_MODULUS_BITS, uint(bits)}, attribute{ck.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}})
	case KeyECDSA:
		curve := opts.Curve
		if curve == nil {
			curve = elliptic.P256()
		}
		oid, err := curveOID(curve)
		if err != nil {
			return nil, err
		}
		mech, keyType = ck.CKM_EC_KEY_PAIR_GEN, ck.CKK_EC
		pub = append(pub, attribute{ck.CKA_EC_PARAMS, oidDER(oid)})
	case KeyGOST:
		ps := opts.ParamSet
		if ps == nil {
			ps = gost3410.CryptoProA
		}
		if ps.Legacy {
			return nil, fmt.Errorf("%w: parameter set %s is for GOST R 34.10-2001 only", ErrUnsupportedKey, ps.Name)
		}
		mech, keyType = CKM_GOSTR3410_KEY_PAIR_GEN, CKK_GOSTR3410
		if ps.Size() == 64 {
			mech, keyType = CKM_GOSTR3410_512_KEY_PAIR_GEN, CKK_GOSTR3410_512
		}
		params := []attribute{{CKA_GOSTR3410_PARAMS, oidDER(ps.OID)}, {CKA_GOSTR3411_PARAMS, gostDigestParams(ps)}}
		pub = append(pub, params...)
		priv = append(priv, params...)
	default:
		return nil, fmt.Errorf("%w: KeyType %d", ErrUnsupportedKey, opts.Type)
	}
	pub = append(pub, attribute{ck.CKA_KEY_TYPE, keyType})
	priv = append(priv, attribute{ck.CKA_KEY_TYPE, keyType})
	if ok, known := t.offers(mech); known && !ok {
		return nil, fmt.Errorf("%w: the token does not offer %s", ErrMechanismInvalid, mechanismName(mech))
	}
	if err := t.ensureLogin(ctx); err != nil {
		return nil, err
	}
	var pubObj, privObj keyObject
	err := t.do(ctx, func(c cryptoki, s uint) error {
		inUse, err := c.FindObjects(s, []attribute{{ck.CKA_ID, id}})
		if err != nil {
			return err
		}
		if len(inUse) > 0 {
			return fmt.Errorf("pkcs11: CKA_ID %x is already used by %d objects on the token", id, len(inUse))
		}
		hPub, hPriv, err := c.GenerateKeyPair(s, mechanism{Type: mech}, pub, priv)
		if err != nil {
			return err
		}
		if pubObj, err = readKey(c, s, hPub, ck.CKO_PUBLIC_KEY); err != nil {
			return err
		}
		privObj, err = readKey(c, s, hPriv, ck.CKO_PRIVATE_KEY)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mechanismName(mech), err)
	}
	if pubObj.err != nil || pubObj.pub == nil {
		return nil, fmt.Errorf("%w: the generated public key object cannot be read back: %v", ErrNoPublicKey, pubObj.err)
	}
	return t.newKey(privObj, pubObj.pub), nil
}
