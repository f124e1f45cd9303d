package pfx

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

// parseKey reads the PKCS#8 PrivateKeyInfo / OneAsymmetricKey (RFC 5958) of
// a GOST key bag. Beside the forms gostkey reads, it takes the masked key of
// RFC 9548 section 5.1 — privateKey = K_M || M_1 || … || M_k, little-endian,
// with INT(K) = INT(K_M) · INT(M_1) · … · INT(M_k) mod q — and, when the
// optional publicKey [1] is there, checks that it is the key's public key
// (as the raw little-endian X || Y the RFC's examples carry, or wrapped in
// an OCTET STRING as in a SubjectPublicKeyInfo).
func parseKey(der []byte) (*gost3410.PrivateKey, error) {
	s := cryptobyte.String(der)
	var pki, alg, priv cryptobyte.String
	var version int64
	if !s.ReadASN1(&pki, cbasn1.SEQUENCE) || !s.Empty() ||
		!pki.ReadASN1Integer(&version) ||
		!pki.ReadASN1Element(&alg, cbasn1.SEQUENCE) ||
		!pki.ReadASN1(&priv, cbasn1.OCTET_STRING) {
		return nil, formatErr("private key: malformed PKCS#8")
	}
	var pub cryptobyte.String
	var hasPub bool
	if !pki.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!pki.ReadOptionalASN1(&pub, &hasPub, cbasn1.Tag(1).ContextSpecific()) {
		return nil, formatErr("private key: malformed PKCS#8 attributes or public key")
	}
	key, err := unmaskedKey(der, alg, priv)
	if err != nil {
		return nil, err
	}
	if hasPub {
		if len(pub) < 1 {
			return nil, formatErr("private key: empty public key")
		}
		bits := []byte(pub[1:])
		var inner cryptobyte.String
		if in := cryptobyte.String(bits); in.ReadASN1(&inner, cbasn1.OCTET_STRING) && in.Empty() {
			bits = inner
		}
		if !bytes.Equal(bits, key.PublicKey().Bytes()) {
			return nil, formatErr("private key: the public key stored beside it is not its own")
		}
	}
	return key, nil
}

// unmaskedKey returns the key of der, whose algorithm identifier and
// privateKey content are alg and priv, removing RFC 9548 masks when priv is
// two or more scalars long.
func unmaskedKey(der []byte, alg, priv cryptobyte.String) (*gost3410.PrivateKey, error) {
	info, err := gostkey.ParsePKCS8PrivateKey(der)
	if err == nil {
		return info.Key, nil
	}
	if errors.Is(err, gostkey.ErrNotGOST) {
		return nil, fmt.Errorf("%w: %v", ErrNoKey, err)
	}
	a := alg
	var body, params cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !a.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&oid) ||
		!body.ReadASN1Element(&params, cbasn1.SEQUENCE) || !body.Empty() {
		return nil, formatErr("private key: %v", err)
	}
	kp, perr := gostkey.ParseAlgorithmParams(oid, params)
	if perr != nil {
		return nil, formatErr("private key: %v", perr)
	}
	size := kp.ParamSet.Size()
	if len(priv) < 2*size || len(priv)%size != 0 || len(priv)/size > 16 {
		return nil, formatErr("private key: %v", err)
	}
	q := kp.ParamSet.Curve().Q()
	k := leInt(priv[:size])
	for i := size; i < len(priv); i += size {
		k.Mul(k, leInt(priv[i:i+size]))
		k.Mod(k, q)
	}
	raw := make([]byte, size)
	k.FillBytes(raw)
	for i, j := 0, len(raw)-1; i < j; i, j = i+1, j-1 {
		raw[i], raw[j] = raw[j], raw[i]
	}
	key, kerr := gost3410.NewPrivateKey(kp.ParamSet, raw)
	clear(raw)
	if kerr != nil {
		return nil, formatErr("private key: %v", kerr)
	}
	return key, nil
}

// leInt reads a little-endian unsigned integer.
func leInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	return new(big.Int).SetBytes(be)
}
