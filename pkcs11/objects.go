package pkcs11

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	ck "github.com/miekg/pkcs11"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

// Identity is a certificate on the token with its private key, matched by
// CKA_ID, or a private key without a certificate, or a certificate without
// a usable key. Key is set only when the pair may be used; otherwise Err
// says why:
//
//   - ErrKeyMismatch: the certificate's public key differs from the
//     token's public key for that CKA_ID (public key object, or the
//     private key's own public attributes), or those two differ;
//   - ErrNotLoggedIn: no private key is visible with the certificate's
//     CKA_ID, and the token hides private objects until Login;
//   - ErrKeyNotFound: no private key with the certificate's CKA_ID (a CA
//     certificate stored on the token, say);
//   - ErrNoPublicKey: a private key with no public key object, public
//     attributes or certificate;
//   - ErrUnsupportedKey, or certs.ErrMalformed for a certificate that does
//     not parse.
type Identity struct {
	ID          []byte             // CKA_ID
	Label       string             // CKA_LABEL of the certificate, else of the key
	Certificate *certs.Certificate // nil for a key without a certificate
	Key         *Key               // nil when Err is set
	// KeyMatched reports that the certificate's public key was compared
	// with the token's own public key data and is equal. It is false for
	// keys without a certificate and for tokens that keep no public key
	// data beside the certificate; every signature is verified with
	// Key.Public() before it is returned anyway.
	KeyMatched bool
	Err        error
}

// keyObject is what the token says about a key object.
type keyObject struct {
	handle     uint
	id         []byte
	label      string
	keyType    uint
	pub        crypto.PublicKey // from the object's own attributes; nil when it carries none
	alwaysAuth bool
	err        error // the object cannot be used
}

// certObject is a certificate object.
type certObject struct {
	id    []byte
	label string
	cert  *certs.Certificate
	err   error
}

// attrReader reads one attribute of one object. Attributes are read one at
// a time: an invalid attribute in a multi-attribute C_GetAttributeValue
// loses them all on some modules.
type attrReader func(typ uint) ([]byte, error)

// optional reads an attribute that may be absent, hidden or unknown to the
// module, returning nil then; other failures are errors.
func (get attrReader) optional(typ uint) ([]byte, error) {
	v, err := get(typ)
	if hasCode(err, ck.CKR_ATTRIBUTE_TYPE_INVALID, ck.CKR_ATTRIBUTE_SENSITIVE) {
		return nil, nil
	}
	return v, err
}

// required reads an attribute that must be there.
func (get attrReader) required(typ uint, name string) ([]byte, error) {
	v, err := get(typ)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// isFatal reports whether an error while reading an object means the
// listing cannot go on (the token or the session is gone), rather than
// that one object is unusable.
func isFatal(err error) bool {
	return mayMeanRemoval(err) || errors.Is(err, ErrClosed)
}

// publicFromAttributes builds the public key a key object carries. Of
// private keys only RSA ones carry it (modulus and exponent); for EC and
// GOST private keys pub is nil with no error, and their CKA_VALUE, the
// secret scalar, is never read. A GOST R 34.10-2001 key (CKA_GOSTR3411_PARAMS
// naming GOST R 34.11-94) is refused whatever its class.
func publicFromAttributes(keyType uint, private bool, get attrReader) (crypto.PublicKey, error) {
	switch keyType {
	case ck.CKK_RSA:
		n, err := get.optional(ck.CKA_MODULUS)
		if err != nil || n == nil {
			return nil, err
		}
		e, err := get.required(ck.CKA_PUBLIC_EXPONENT, "CKA_PUBLIC_EXPONENT")
		if err != nil {
			return nil, err
		}
		return rsaPublicKey(n, e)
	case ck.CKK_EC:
		if private {
			return nil, nil // CKA_EC_POINT belongs to the public key object
		}
		params, err := get.required(ck.CKA_EC_PARAMS, "CKA_EC_PARAMS")
		if err != nil {
			return nil, err
		}
		curve, err := namedCurve(params)
		if err != nil {
			return nil, err
		}
		point, err := get.optional(ck.CKA_EC_POINT)
		if err != nil || point == nil {
			return nil, err
		}
		return ecPublicKey(curve, point)
	case CKK_GOSTR3410, CKK_GOSTR3410_512:
		digestParams, err := get.optional(CKA_GOSTR3411_PARAMS)
		if err != nil {
			return nil, err
		}
		if isGOST2001(digestParams) {
			return nil, fmt.Errorf("%w: GOST R 34.10-2001 key (withdrawn in 2019)", ErrUnsupportedKey)
		}
		if private {
			return nil, nil // the public point is on the public key object
		}
		params, err := get.required(CKA_GOSTR3410_PARAMS, "CKA_GOSTR3410_PARAMS")
		if err != nil {
			return nil, err
		}
		ps, err := gostParamSet(keyType, params)
		if err != nil {
			return nil, err
		}
		value, err := get.optional(ck.CKA_VALUE)
		if err != nil || value == nil {
			return nil, err
		}
		return gostPublicKey(ps, value)
	}
	return nil, fmt.Errorf("%w: CKA_KEY_TYPE 0x%X", ErrUnsupportedKey, keyType)
}

func rsaPublicKey(n, e []byte) (*rsa.PublicKey, error) {
	ev := new(big.Int).SetBytes(e)
	if len(n) == 0 || !ev.IsInt64() || ev.Int64() < 3 || ev.Int64() > 1<<31-1 {
		return nil, fmt.Errorf("%w: RSA modulus of %d bytes, exponent % X", ErrUnsupportedKey, len(n), e)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev.Int64())}, nil
}

var (
	oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384 = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521 = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

// namedCurve returns the curve a CKA_EC_PARAMS value names.
func namedCurve(params []byte) (elliptic.Curve, error) {
	oid, err := oidFromDER(params)
	if err != nil {
		return nil, fmt.Errorf("%w: CKA_EC_PARAMS: %w", ErrUnsupportedKey, err)
	}
	switch {
	case oid.Equal(oidP256):
		return elliptic.P256(), nil
	case oid.Equal(oidP384):
		return elliptic.P384(), nil
	case oid.Equal(oidP521):
		return elliptic.P521(), nil
	}
	return nil, fmt.Errorf("%w: curve %s", ErrUnsupportedKey, oid)
}

// curveOID returns the OID of a curve namedCurve knows.
func curveOID(c elliptic.Curve) (asn1.ObjectIdentifier, error) {
	switch c {
	case elliptic.P256():
		return oidP256, nil
	case elliptic.P384():
		return oidP384, nil
	case elliptic.P521():
		return oidP521, nil
	}
	return nil, fmt.Errorf("%w: curve %v", ErrUnsupportedKey, c)
}

// ecPublicKey parses CKA_EC_POINT: the uncompressed point wrapped in a DER
// OCTET STRING as PKCS#11 specifies, or bare as some modules return it (the
// length decides).
func ecPublicKey(curve elliptic.Curve, point []byte) (*ecdsa.PublicKey, error) {
	raw := point
	if size := 1 + 2*((curve.Params().BitSize+7)/8); len(point) != size {
		s := cryptobyte.String(point)
		var inner cryptobyte.String
		if !s.ReadASN1(&inner, cbasn1.OCTET_STRING) || !s.Empty() {
			return nil, fmt.Errorf("pkcs11: CKA_EC_POINT of %d bytes is neither a %d-byte point nor an OCTET STRING", len(point), size)
		}
		raw = inner
	}
	return ecdsa.ParseUncompressedPublicKey(curve, raw)
}

// keyTypeOf returns the CKA_KEY_TYPE of keys like pub.
func keyTypeOf(pub crypto.PublicKey) uint {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return ck.CKK_RSA
	case *ecdsa.PublicKey:
		return ck.CKK_EC
	case *gost3410.PublicKey:
		if k.Params().Size() == 64 {
			return CKK_GOSTR3410_512
		}
		return CKK_GOSTR3410
	}
	return ^uint(0)
}

func equalKeys(a, b crypto.PublicKey) bool {
	x, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && x.Equal(b)
}

// readKey reads a key object of class CKO_PRIVATE_KEY or CKO_PUBLIC_KEY.
func readKey(c cryptoki, s, h, class uint) (keyObject, error) {
	get := attrReader(func(typ uint) ([]byte, error) { return c.GetAttributeValue(s, h, typ) })
	k := keyObject{handle: h}
	var err error
	if k.id, err = get.optional(ck.CKA_ID); err != nil {
		return k, err
	}
	label, err := get.optional(ck.CKA_LABEL)
	if err != nil {
		return k, err
	}
	k.label = string(label)
	kt, err := get.required(ck.CKA_KEY_TYPE, "CKA_KEY_TYPE")
	if err != nil {
		return k, err
	}
	if k.keyType, err = ulong(kt); err != nil {
		return k, err
	}
	aa, err := get.optional(ck.CKA_ALWAYS_AUTHENTICATE)
	if err != nil {
		return k, err
	}
	k.alwaysAuth = len(aa) == 1 && aa[0] != 0
	k.pub, k.err = publicFromAttributes(k.keyType, class == ck.CKO_PRIVATE_KEY, get)
	if isFatal(k.err) {
		return k, k.err
	}
	return k, nil
}

// readCertificate reads an X.509 certificate object.
func readCertificate(c cryptoki, s, h uint) (certObject, error) {
	get := attrReader(func(typ uint) ([]byte, error) { return c.GetAttributeValue(s, h, typ) })
	var co certObject
	var err error
	if co.id, err = get.optional(ck.CKA_ID); err != nil {
		return co, err
	}
	label, err := get.optional(ck.CKA_LABEL)
	if err != nil {
		return co, err
	}
	co.label = string(label)
	der, err := get.required(ck.CKA_VALUE, "certificate CKA_VALUE")
	if err != nil {
		if isFatal(err) {
			return co, err
		}
		co.err = err
		return co, nil
	}
	co.cert, co.err = certs.ParseCertificate(der)
	if co.err == nil && co.cert.PublicKey == nil {
		co.err = fmt.Errorf("%w: certificate key algorithm %s", ErrUnsupportedKey, co.cert.KeyAlgorithm)
	} else if co.err == nil && strings.HasPrefix(co.cert.KeyAlgorithm, gostkey.GOST2001.String()) {
		co.err = fmt.Errorf("%w: %s (withdrawn in 2019)", ErrUnsupportedKey, co.cert.KeyAlgorithm)
	}
	return co, nil
}

// objects lists the token's private keys, public keys and X.509
// certificates in one hold of the token.
func (t *Token) objects(ctx context.Context) (privs, pubs []keyObject, certObjs []certObject, err error) {
	err = t.do(ctx, func(c cryptoki, s uint) error {
		for _, class := range []uint{ck.CKO_PRIVATE_KEY, ck.CKO_PUBLIC_KEY} {
			hs, err := c.FindObjects(s, []attribute{{ck.CKA_CLASS, class}})
			if err != nil {
				return err
			}
			for _, h := range hs {
				k, err := readKey(c, s, h, class)
				if err != nil {
					return err
				}
				if class == ck.CKO_PRIVATE_KEY {
					privs = append(privs, k)
				} else {
					pubs = append(pubs, k)
				}
			}
		}
		hs, err := c.FindObjects(s, []attribute{{ck.CKA_CLASS, uint(ck.CKO_CERTIFICATE)}, {ck.CKA_CERTIFICATE_TYPE, uint(ck.CKC_X_509)}})
		if err != nil {
			return err
		}
		for _, h := range hs {
			co, err := readCertificate(c, s, h)
			if err != nil {
				return err
			}
			certObjs = append(certObjs, co)
		}
		return nil
	})
	return privs, pubs, certObjs, err
}

// Identities lists the certificates and private keys on the token, matched
// by CKA_ID, with their public keys checked (see Identity). Most tokens
// show private keys only after Login: before it, certificates come with
// ErrNotLoggedIn. Identities does not log in by itself.
func (t *Token) Identities(ctx context.Context) ([]*Identity, error) {
	privs, pubs, certObjs, err := t.objects(ctx)
	if err != nil {
		return nil, err
	}
	hidden := false
	if t.info.LoginRequired {
		in, err := t.LoggedIn(ctx)
		if err != nil {
			return nil, err
		}
		hidden = !in
	}
	return t.match(privs, pubs, certObjs, hidden), nil
}

// FindKey logs in if needed and returns the usable private key with the
// given CKA_ID. When a certificate has that CKA_ID the key must match it:
// a mismatched pair gives the Identity's error (ErrKeyMismatch…), not the
// key. No private key with the ID is ErrKeyNotFound.
func (t *Token) FindKey(ctx context.Context, id []byte) (*Key, error) {
	if err := t.ensureLogin(ctx); err != nil {
		return nil, err
	}
	ids, err := t.Identities(ctx)
	if err != nil {
		return nil, err
	}
	var certErr, keyErr error
	var bare *Key
	for _, x := range ids {
		switch {
		case !bytes.Equal(x.ID, id):
		case x.Certificate != nil && x.Key != nil:
			return x.Key, nil
		case x.Certificate != nil:
			certErr = cmp.Or(certErr, x.Err)
		case x.Key != nil:
			bare = x.Key
		default:
			keyErr = cmp.Or(keyErr, x.Err)
		}
	}
	switch {
	case certErr != nil:
		return nil, fmt.Errorf("key %x: %w", id, certErr)
	case bare != nil:
		return bare, nil
	case keyErr != nil:
		return nil, fmt.Errorf("key %x: %w", id, keyErr)
	}
	return nil, fmt.Errorf("%w: no private key with CKA_ID %x on token %s", ErrKeyNotFound, id, t.info)
}

// match pairs the objects into identities. hidden says private objects may
// be invisible (not logged in to a token that requires it).
func (t *Token) match(privs, pubs []keyObject, certObjs []certObject, hidden bool) []*Identity {
	// The token's public key for each private key: its own attributes,
	// checked against the public key object with the same CKA_ID and type.
	tokenPub := make([]crypto.PublicKey, len(privs))
	for i := range privs {
		p := &privs[i]
		if p.err != nil {
			continue
		}
		tokenPub[i] = p.pub
		for _, q := range pubs {
			if q.err != nil || q.pub == nil || q.keyType != p.keyType || !bytes.Equal(q.id, p.id) {
				continue
			}
			if tokenPub[i] == nil {
				tokenPub[i] = q.pub
			} else if !equalKeys(tokenPub[i], q.pub) {
				p.err = fmt.Errorf("%w: the private key's public attributes differ from the public key object with CKA_ID %x", ErrKeyMismatch, p.id)
			}
			break
		}
	}

	var out []*Identity
	used := make([]bool, len(privs))
	for _, co := range certObjs {
		id := &Identity{ID: co.id, Label: co.label, Certificate: co.cert, Err: co.err}
		out = append(out, id)
		if co.err != nil {
			continue
		}
		var unchecked = -1
		var why error
		found := false
		for i, p := range privs {
			if !bytes.Equal(p.id, co.id) {
				continue
			}
			found = true
			switch {
			case p.err != nil:
				why = p.err
			case p.keyType != keyTypeOf(co.cert.PublicKey):
				why = fmt.Errorf("%w: %s certificate, private key of CKA_KEY_TYPE 0x%X", ErrKeyMismatch, co.cert.KeyAlgorithm, p.keyType)
			case tokenPub[i] == nil:
				if unchecked < 0 {
					unchecked = i
				}
			case equalKeys(tokenPub[i], co.cert.PublicKey):
				id.Key, id.KeyMatched, used[i] = t.newKey(p, co.cert.PublicKey), true, true
			default:
				why = fmt.Errorf("%w: the certificate's public key is not the token's public key with CKA_ID %x", ErrKeyMismatch, co.id)
			}
			if id.Key != nil {
				break
			}
		}
		switch {
		case id.Key != nil:
		case unchecked >= 0:
			id.Key, used[unchecked] = t.newKey(privs[unchecked], co.cert.PublicKey), true
		case why != nil:
			id.Err = why
		case !found && hidden && pubMismatch(pubs, co):
			// The private key is hidden, but the public key object beside it
			// already shows the pair is wrong: no login needed to say so.
			id.Err = fmt.Errorf("%w: the certificate's public key is not the token's public key object with CKA_ID %x", ErrKeyMismatch, co.id)
		case !found && hidden:
			id.Err = fmt.Errorf("%w: log in to see the private key with CKA_ID %x", ErrNotLoggedIn, co.id)
		case !found:
			id.Err = fmt.Errorf("%w: no private key with the certificate's CKA_ID %x", ErrKeyNotFound, co.id)
		}
	}
	for i, p := range privs {
		if used[i] {
			continue
		}
		id := &Identity{ID: p.id, Label: p.label, Err: p.err}
		switch {
		case p.err != nil:
		case tokenPub[i] == nil:
			id.Err = fmt.Errorf("%w: private key with CKA_ID %x has no public key object, public attributes or certificate", ErrNoPublicKey, p.id)
		default:
			id.Key = t.newKey(p, tokenPub[i])
		}
		out = append(out, id)
	}
	slices.SortStableFunc(out, func(a, b *Identity) int { return bytes.Compare(a.ID, b.ID) })
	return out
}

// pubMismatch reports whether a public key object with the certificate's
// CKA_ID holds another key than the certificate.
func pubMismatch(pubs []keyObject, co certObject) bool {
	for _, q := range pubs {
		if q.err == nil && q.pub != nil && bytes.Equal(q.id, co.id) {
			return !equalKeys(q.pub, co.cert.PublicKey)
		}
	}
	return false
}

// keyName names a key for messages and PIN requests: its label, else its
// CKA_ID in hex.
func keyName(label string, id []byte) string {
	if label != "" {
		return label
	}
	return hex.EncodeToString(id)
}
