package pkcs11

import (
	"bytes"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/gost/streebog"
)

// oidFromDER parses a DER OBJECT IDENTIFIER with its tag, the form of
// CKA_GOSTR3410_PARAMS, CKA_GOSTR3411_PARAMS and (named curves) CKA_EC_PARAMS.
func oidFromDER(der []byte) (asn1.ObjectIdentifier, error) {
	s := cryptobyte.String(der)
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1ObjectIdentifier(&oid) || !s.Empty() {
		return nil, fmt.Errorf("pkcs11: parameters % X are not one DER OBJECT IDENTIFIER", der)
	}
	return oid, nil
}

// oidDER returns the DER encoding of oid (with its tag).
func oidDER(oid asn1.ObjectIdentifier) []byte {
	der, err := asn1.Marshal(oid)
	if err != nil {
		panic("pkcs11: cannot encode OID " + oid.String()) // the OIDs passed are package constants
	}
	return der
}

// gostKeyBits returns 256 or 512 for the GOST key types, 0 for others.
func gostKeyBits(keyType uint) int {
	switch keyType {
	case CKK_GOSTR3410:
		return 256
	case CKK_GOSTR3410_512:
		return 512
	}
	return 0
}

// gostParamSet returns the parameter set a CKA_GOSTR3410_PARAMS value names
// for a key of keyType, refusing sets of the wrong size and the legacy
// GOST R 34.10-2001 test set.
func gostParamSet(keyType uint, params []byte) (*gost3410.ParamSet, error) {
	oid, err := oidFromDER(params)
	if err != nil {
		return nil, fmt.Errorf("%w: CKA_GOSTR3410_PARAMS: %w", ErrUnsupportedKey, err)
	}
	ps, err := gost3410.ParamSetByOID(oid)
	if err != nil {
		return nil, fmt.Errorf("%w: CKA_GOSTR3410_PARAMS %s: %w", ErrUnsupportedKey, oid, err)
	}
	if ps.Legacy {
		return nil, fmt.Errorf("%w: parameter set %s is for GOST R 34.10-2001 only", ErrUnsupportedKey, ps.Name)
	}
	if bits := gostKeyBits(keyType); ps.BitSize() != bits {
		return nil, fmt.Errorf("%w: %d-bit parameter set %s on a %d-bit GOST key", ErrUnsupportedKey, ps.BitSize(), ps.Name, bits)
	}
	return ps, nil
}

// gostDigestParams returns CKA_GOSTR3411_PARAMS for a GOST R 34.10-2012 key
// on ps: the Streebog OID of the set's size.
func gostDigestParams(ps *gost3410.ParamSet) []byte {
	if ps.Size() == 64 {
		return oidDER(gostkey.OIDStreebog512)
	}
	return oidDER(gostkey.OIDStreebog256)
}

// isGOST2001 reports whether a CKA_GOSTR3411_PARAMS value names GOST R
// 34.11-94, which marks a GOST R 34.10-2001 key (it shares CKK_GOSTR3410
// with 2012 256-bit keys).
func isGOST2001(digestParams []byte) bool {
	return bytes.Equal(digestParams, oidDER(gostkey.OIDGOST341194))
}

// gostPublicKey parses the CKA_VALUE of a GOST public key on ps: X || Y,
// each little-endian, bare (64 or 128 bytes) or wrapped in a DER OCTET
// STRING as in SubjectPublicKeyInfo (some modules return that form). The
// length decides, so a bare value that happens to start with 04 40 is not
// mistaken for a wrapped one.
func gostPublicKey(ps *gost3410.ParamSet, value []byte) (*gost3410.PublicKey, error) {
	raw := value
	if len(value) != 2*ps.Size() {
		s := cryptobyte.String(value)
		var inner cryptobyte.String
		if !s.ReadASN1(&inner, cbasn1.OCTET_STRING) || !s.Empty() || len(inner) != 2*ps.Size() {
			return nil, fmt.Errorf("pkcs11: GOST public key CKA_VALUE of %d bytes is neither %d bytes of X||Y nor an OCTET STRING of them", len(value), 2*ps.Size())
		}
		raw = inner
	}
	return gost3410.NewPublicKey(ps, raw)
}

// gostMechanisms returns the raw and the hash-on-token signing mechanisms
// for keys on ps.
func gostMechanisms(ps *gost3410.ParamSet) (raw, withHash uint) {
	if ps.Size() == 64 {
		return CKM_GOSTR3410_512, CKM_GOSTR3410_WITH_GOSTR3411_12_512
	}
	return CKM_GOSTR3410, CKM_GOSTR3410_WITH_GOSTR3411_12_256
}

// gostDigestMechanism chooses the mechanism that signs a digest computed on
// the host: the digest length selects CKM_GOSTR3410 (32 bytes) or
// CKM_GOSTR3410_512 (64), which must fit the key. A token that lists only
// the hash-on-token mechanism cannot sign a digest: the error says to use
// SignMessage. offers reports whether the token lists a mechanism (known is
// false when the token gave no list: the raw mechanism is then tried).
func gostDigestMechanism(ps *gost3410.ParamSet, digestLen int, offers func(uint) (ok, known bool)) (uint, error) {
	var raw, withHash uint
	switch digestLen {
	case 32:
		raw, withHash = CKM_GOSTR3410, CKM_GOSTR3410_WITH_GOSTR3411_12_256
	case 64:
		raw, withHash = CKM_GOSTR3410_512, CKM_GOSTR3410_WITH_GOSTR3411_12_512
	default:
		return 0, fmt.Errorf("pkcs11: GOST digest of %d bytes (want 32 for Streebog-256 or 64 for Streebog-512)", digestLen)
	}
	if digestLen != ps.Size() {
		return 0, fmt.Errorf("pkcs11: a %d-byte digest selects %s, but the key is %d-bit (%s)", digestLen, mechanismName(raw), ps.BitSize(), ps.Name)
	}
	ok, known := offers(raw)
	if ok || !known {
		return raw, nil
	}
	if h, _ := offers(withHash); h {
		return 0, fmt.Errorf("%w: the token offers %s only, which hashes on the token: sign the message with SignMessage", ErrMechanismInvalid, mechanismName(withHash))
	}
	return 0, fmt.Errorf("%w: the token offers neither %s nor %s", ErrMechanismInvalid, mechanismName(raw), mechanismName(withHash))
}

// gostMessageMechanism chooses how to sign a whole message with a key on
// ps: hashing on the host and signing the digest with the raw mechanism
// when the token offers it (or lists nothing), else hashing on the token
// with CKM_GOSTR3410_WITH_GOSTR3411_12_256/512.
func gostMessageMechanism(ps *gost3410.ParamSet, offers func(uint) (ok, known bool)) (mech uint, onToken bool, err error) {
	raw, withHash := gostMechanisms(ps)
	if ok, known := offers(raw); ok || !known {
		return raw, false, nil
	}
	if ok, _ := offers(withHash); ok {
		return withHash, true, nil
	}
	return 0, false, fmt.Errorf("%w: the token offers neither %s nor %s", ErrMechanismInvalid, mechanismName(raw), mechanismName(withHash))
}

// streebogSum hashes msg with the Streebog of ps's size.
func streebogSum(ps *gost3410.ParamSet, msg []byte) []byte {
	if ps.Size() == 64 {
		d := streebog.Sum512(msg)
		return d[:]
	}
	d := streebog.Sum256(msg)
	return d[:]
}
