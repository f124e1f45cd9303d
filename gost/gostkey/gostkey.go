// Package gostkey encodes and parses GOST R 34.10 keys in the X.509 and PKCS#8
// forms of RFC 9215 (and RFC 4491 for GOST R 34.10-2001 keys), as OpenSSL's
// gost engine, CryptoPro and the Russian CAs write them.
//
// SubjectPublicKeyInfo: the algorithm is id-tc26-gost3410-12-256 or -512 with
// parameters SEQUENCE { publicKeyParamSet, digestParamSet OPTIONAL }, and the
// BIT STRING holds a DER OCTET STRING of X || Y, each little-endian.
// digestParamSet is written exactly as the gost engine writes it (see
// needsDigestParamSet) and accepted present or absent when parsing.
//
// PKCS#8: the privateKey OCTET STRING holds the little-endian scalar. The gost
// engine writes the bare scalar; RFC 9215 wraps it in an inner OCTET STRING and
// some older tools write a big-endian INTEGER. All three are read; the gost
// engine's form is written. CryptoPro's masked key containers are not PKCS#8
// and are not read here.
package gostkey

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost3410"
)

// Algorithm OIDs.
var (
	OIDPublicKey2012256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1}
	OIDPublicKey2012512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 2}
	OIDPublicKey2001    = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 19}
	OIDStreebog256      = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}
	OIDStreebog512      = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3}
	OIDGOST341194       = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 1} // digestParamSet of 2001 keys
)

// Algorithm names the key algorithm of an encoded key.
type Algorithm int

// The key algorithms.
const (
	GOST2012256 Algorithm = iota + 1 // GOST R 34.10-2012, 256-bit
	GOST2012512                      // GOST R 34.10-2012, 512-bit
	GOST2001                         // GOST R 34.10-2001 (legacy)
)

func (a Algorithm) String() string {
	switch a {
	case GOST2012256:
		return "GOST R 34.10-2012 256"
	case GOST2012512:
		return "GOST R 34.10-2012 512"
	case GOST2001:
		return "GOST R 34.10-2001"
	}
	return fmt.Sprintf("Algorithm(%d)", int(a))
}

// ErrNotGOST is returned (wrapped) when the algorithm OID is not a GOST key.
var ErrNotGOST = errors.New("gostkey: not a GOST R 34.10 key")

// AlgorithmOf returns the GOST key algorithm named by oid, or ErrNotGOST.
func AlgorithmOf(oid asn1.ObjectIdentifier) (Algorithm, error) {
	switch {
	case oid.Equal(OIDPublicKey2012256):
		return GOST2012256, nil
	case oid.Equal(OIDPublicKey2012512):
		return GOST2012512, nil
	case oid.Equal(OIDPublicKey2001):
		return GOST2001, nil
	}
	return 0, fmt.Errorf("%w: algorithm %v", ErrNotGOST, oid)
}

// KeyParams is the content of a GOST AlgorithmIdentifier.
type KeyParams struct {
	Algorithm      Algorithm
	ParamSet       *gost3410.ParamSet
	DigestParamSet asn1.ObjectIdentifier // nil when absent
	// LegacyDigestParamSet is set when a GOST R 34.10-2012 256-bit key
	// names GOST R 34.11-94 (1.2.643.2.2.30.1) as its digestParamSet, as
	// Bouncy Castle writes for CryptoPro-A keys. RFC 9215 says Streebog-256;
	// the key is accepted (its curve and point are what they are) and the
	// caller should report it. Signatures by the key still use Streebog-256.
	LegacyDigestParamSet bool
}

// ParseAlgorithmParams reads GostR3410-2012-PublicKeyParameters (the DER
// SEQUENCE in params) for the key algorithm oid and checks that the parameter
// set's size fits the algorithm.
func ParseAlgorithmParams(oid asn1.ObjectIdentifier, params []byte) (*KeyParams, error) {
	alg, err := AlgorithmOf(oid)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	var psOID asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1ObjectIdentifier(&psOID) {
		return nil, errors.New("gostkey: malformed GOST key parameters")
	}
	kp := &KeyParams{Algorithm: alg}
	if !seq.Empty() {
		var d asn1.ObjectIdentifier
		if !seq.ReadASN1ObjectIdentifier(&d) {
			return nil, errors.New("gostkey: malformed digestParamSet")
		}
		kp.DigestParamSet = d
		// A third OID (encryptionParamSet of RFC 4491) may follow in 2001 keys.
		if alg == GOST2001 && !seq.Empty() {
			var enc asn1.ObjectIdentifier
			if !seq.ReadASN1ObjectIdentifier(&enc) {
				return nil, errors.New("gostkey: malformed encryptionParamSet")
			}
		}
		if !seq.Empty() {
			return nil, errors.New("gostkey: trailing data in GOST key parameters")
		}
	}
	if kp.DigestParamSet != nil {
		if alg == GOST2012256 && kp.DigestParamSet.Equal(OIDGOST341194) {
			kp.LegacyDigestParamSet = true
		} else if want := digestFor(alg); !kp.DigestParamSet.Equal(want) {
			return nil, fmt.Errorf("gostkey: digestParamSet %v does not fit a %v key (want %v)", kp.DigestParamSet, alg, want)
		}
	}
	ps, err := gost3410.ParamSetByOID(psOID)
	if err != nil {
		return nil, err
	}
	want := 32
	if alg == GOST2012512 {
		want = 64
	}
	if ps.Size() != want {
		return nil, fmt.Errorf("gostkey: parameter set %s does not fit a %v key", ps.Name, alg)
	}
	kp.ParamSet = ps
	return kp, nil
}

// digestFor returns the hash that goes with keys of alg.
func digestFor(alg Algorithm) asn1.ObjectIdentifier {
	switch alg {
	case GOST2012512:
		return OIDStreebog512
	case GOST2001:
		return OIDGOST341194
	}
	return OIDStreebog256
}

// marshalAlgorithm writes the AlgorithmIdentifier of a 2012 key on ps.
func marshalAlgorithm(b *cryptobyte.Builder, ps *gost3410.ParamSet) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if ps.Size() == 64 {
			b.AddASN1ObjectIdentifier(OIDPublicKey2012512)
		} else {
			b.AddASN1ObjectIdentifier(OIDPublicKey2012256)
		}
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(ps.OID)
			if needsDigestParamSet(ps) {
				if ps.Size() == 64 {
					b.AddASN1ObjectIdentifier(OIDStreebog512)
				} else {
					b.AddASN1ObjectIdentifier(OIDStreebog256)
				}
			}
		})
	})
}

// needsDigestParamSet says whether the AlgorithmIdentifier of a key on ps
// carries digestParamSet. RFC 9215 requires it with the CryptoPro 256-bit
// sets and says it SHOULD be omitted otherwise; the gost engine and CryptoPro
// also write it for the two 512-bit sets that predate RFC 9215 (tc26-512-A
// and -B), and kep writes what they write so its keys and requests are
// byte-for-byte what the peers produce.
func needsDigestParamSet(ps *gost3410.ParamSet) bool {
	switch ps {
	case gost3410.CryptoProA, gost3410.CryptoProB, gost3410.CryptoProC,
		gost3410.CryptoProXchA, gost3410.CryptoProXchB,
		gost3410.TC26512A, gost3410.TC26512B:
		return true
	}
	return false
}

// MarshalPKIXPublicKey returns the DER SubjectPublicKeyInfo of pub as a
// GOST R 34.10-2012 key.
func MarshalPKIXPublicKey(pub *gost3410.PublicKey) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		marshalAlgorithm(b, pub.Params())
		b.AddASN1BitString(MarshalPublicKeyValue(pub))
	})
	return b.Bytes()
}

// MarshalPublicKeyValue returns the content of the SubjectPublicKeyInfo BIT
// STRING: a DER OCTET STRING of X || Y, little-endian.
func MarshalPublicKeyValue(pub *gost3410.PublicKey) []byte {
	var b cryptobyte.Builder
	b.AddASN1OctetString(pub.Bytes())
	return b.BytesOrPanic()
}

// ParsePublicKeyValue parses the content of the SubjectPublicKeyInfo BIT
// STRING for a key on ps.
func ParsePublicKeyValue(ps *gost3410.ParamSet, bits []byte) (*gost3410.PublicKey, error) {
	s := cryptobyte.String(bits)
	var raw cryptobyte.String
	if !s.ReadASN1(&raw, cbasn1.OCTET_STRING) || !s.Empty() {
		return nil, errors.New("gostkey: public key is not a DER OCTET STRING")
	}
	return gost3410.NewPublicKey(ps, raw)
}

// PublicKeyInfo is a parsed GOST SubjectPublicKeyInfo.
type PublicKeyInfo struct {
	KeyParams
	Key *gost3410.PublicKey
}

// ParsePKIXPublicKey parses a DER SubjectPublicKeyInfo holding a GOST R 34.10
// key (2012 or 2001).
func ParsePKIXPublicKey(der []byte) (*PublicKeyInfo, error) {
	s := cryptobyte.String(der)
	var spki, alg, params cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !s.ReadASN1(&spki, cbasn1.SEQUENCE) || !s.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("gostkey: malformed SubjectPublicKeyInfo")
	}
	if _, err := AlgorithmOf(oid); err != nil {
		return nil, err
	}
	if !alg.ReadASN1Element(&params, cbasn1.SEQUENCE) || !alg.Empty() ||
		!spki.ReadASN1BitString(&bits) || !spki.Empty() {
		return nil, errors.New("gostkey: malformed SubjectPublicKeyInfo")
	}
	kp, err := ParseAlgorithmParams(oid, params)
	if err != nil {
		return nil, err
	}
	if bits.BitLength%8 != 0 {
		return nil, errors.New("gostkey: public key BIT STRING has unused bits")
	}
	key, err := ParsePublicKeyValue(kp.ParamSet, bits.Bytes)
	if err != nil {
		return nil, err
	}
	return &PublicKeyInfo{KeyParams: *kp, Key: key}, nil
}

// MarshalPKCS8PrivateKey returns the DER PKCS#8 PrivateKeyInfo of key as a
// GOST R 34.10-2012 key, in the form `openssl genpkey` writes.
func MarshalPKCS8PrivateKey(key *gost3410.PrivateKey) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		marshalAlgorithm(b, key.Params())
		b.AddASN1OctetString(key.Bytes())
	})
	return b.Bytes()
}

// PrivateKeyInfo is a parsed GOST PKCS#8 key.
type PrivateKeyInfo struct {
	KeyParams
	Key *gost3410.PrivateKey
}

// ParsePKCS8PrivateKey parses a DER PKCS#8 PrivateKeyInfo holding a GOST
// R 34.10 key. Attributes and an embedded public key are ignored.
func ParsePKCS8PrivateKey(der []byte) (*PrivateKeyInfo, error) {
	s := cryptobyte.String(der)
	var pki, alg, params, priv cryptobyte.String
	var version int64
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&pki, cbasn1.SEQUENCE) || !s.Empty() ||
		!pki.ReadASN1Integer(&version) || (version != 0 && version != 1) ||
		!pki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("gostkey: malformed PKCS#8 PrivateKeyInfo")
	}
	if _, err := AlgorithmOf(oid); err != nil {
		return nil, err
	}
	if !alg.ReadASN1Element(&params, cbasn1.SEQUENCE) || !alg.Empty() ||
		!pki.ReadASN1(&priv, cbasn1.OCTET_STRING) {
		return nil, errors.New("gostkey: malformed PKCS#8 PrivateKeyInfo")
	}
	kp, err := ParseAlgorithmParams(oid, params)
	if err != nil {
		return nil, err
	}
	raw, err := privateScalar(priv, kp.ParamSet.Size())
	if err != nil {
		return nil, err
	}
	key, err := gost3410.NewPrivateKey(kp.ParamSet, raw)
	if err != nil {
		return nil, err
	}
	return &PrivateKeyInfo{KeyParams: *kp, Key: key}, nil
}

// privateScalar returns the little-endian scalar from the privateKey OCTET
// STRING content in any of the three forms described in the package doc.
func privateScalar(priv cryptobyte.String, size int) ([]byte, error) {
	if len(priv) == size {
		return priv, nil
	}
	inner := priv
	var v cryptobyte.String
	if inner.ReadASN1(&v, cbasn1.OCTET_STRING) && inner.Empty() && len(v) == size {
		return v, nil
	}
	inner = priv
	if inner.ReadASN1(&v, cbasn1.INTEGER) && inner.Empty() && len(v) > 0 && v[0]&0x80 == 0 {
		for len(v) > size && v[0] == 0 {
			v = v[1:]
		}
		if len(v) <= size {
			out := make([]byte, size)
			for i, c := range v {
				out[len(v)-1-i] = c
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("gostkey: private key is not a %d-byte scalar", size)
}
