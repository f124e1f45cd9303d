package pkcs11

import (
	"encoding/asn1"
	"errors"
	"strings"
	"testing"

	ck "github.com/miekg/pkcs11"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

// offering returns an offers function for a token that lists mechs (nil:
// the token gave no list).
func offering(mechs ...uint) func(uint) (bool, bool) {
	return func(x uint) (bool, bool) {
		if mechs == nil {
			return false, false
		}
		for _, m := range mechs {
			if m == x {
				return true, true
			}
		}
		return false, true
	}
}

const (
	raw256  = CKM_GOSTR3410
	raw512  = CKM_GOSTR3410_512
	hash256 = CKM_GOSTR3410_WITH_GOSTR3411_12_256
	hash512 = CKM_GOSTR3410_WITH_GOSTR3411_12_512
)

func TestGOSTMechanismValues(t *testing.T) {
	// The TC26 vendor values, as OpenSC and the Rutoken SDK define them.
	for _, c := range []struct {
		got, want uint
	}{
		{CKK_GOSTR3410, 0x30}, {CKK_GOSTR3410_512, 0xD4321003},
		{CKA_GOSTR3410_PARAMS, 0x250}, {CKA_GOSTR3411_PARAMS, 0x251},
		{CKM_GOSTR3410_KEY_PAIR_GEN, 0x1200}, {CKM_GOSTR3410_512_KEY_PAIR_GEN, 0xD4321005},
		{CKM_GOSTR3410, 0x1201}, {CKM_GOSTR3410_512, 0xD4321006},
		{CKM_GOSTR3410_WITH_GOSTR3411_12_256, 0xD4321008}, {CKM_GOSTR3410_WITH_GOSTR3411_12_512, 0xD4321009},
	} {
		if c.got != c.want {
			t.Errorf("constant 0x%X, want 0x%X", c.got, c.want)
		}
	}
}

func TestGOSTDigestMechanism(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ps        *gost3410.ParamSet
		digestLen int
		offers    func(uint) (bool, bool)
		want      uint
		err       error  // sentinel, or nil
		errText   string // part of the message when an error is wanted
	}{
		{"256 raw offered", gost3410.CryptoProA, 32, offering(raw256, raw512), raw256, nil, ""},
		{"512 raw offered", gost3410.TC26512A, 64, offering(raw256, raw512), raw512, nil, ""},
		{"256 no list", gost3410.TC26256A, 32, offering(), raw256, nil, ""},
		{"512 no list", gost3410.TC26512C, 64, offering(), raw512, nil, ""},
		{"256 both offered", gost3410.CryptoProB, 32, offering(raw256, hash256), raw256, nil, ""},
		{"256 hash-on-token only", gost3410.CryptoProA, 32, offering(hash256), 0, ErrMechanismInvalid, "SignMessage"},
		{"512 hash-on-token only", gost3410.TC26512B, 64, offering(hash512), 0, ErrMechanismInvalid, "SignMessage"},
		{"256 nothing GOST", gost3410.CryptoProA, 32, offering(ck.CKM_ECDSA), 0, ErrMechanismInvalid, "neither"},
		{"512 key, 256 offered only", gost3410.TC26512A, 64, offering(raw256), 0, ErrMechanismInvalid, "neither"},
		{"64-byte digest on 256 key", gost3410.CryptoProA, 64, offering(raw256, raw512), 0, nil, "CKM_GOSTR3410_512"},
		{"32-byte digest on 512 key", gost3410.TC26512A, 32, offering(raw256, raw512), 0, nil, "512-bit"},
		{"SHA-384 sized digest", gost3410.CryptoProA, 48, offering(raw256), 0, nil, "48 bytes"},
		{"empty digest", gost3410.CryptoProA, 0, offering(raw256), 0, nil, "0 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := gostDigestMechanism(tc.ps, tc.digestLen, tc.offers)
			if tc.errText == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %s, %v; want %s", mechanismName(got), err, mechanismName(tc.want))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errText) || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Fatalf("got %s, %v; want an error with %q (%v)", mechanismName(got), err, tc.errText, tc.err)
			}
		})
	}
}

func TestGOSTMessageMechanism(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ps      *gost3410.ParamSet
		offers  func(uint) (bool, bool)
		want    uint
		onToken bool
		fails   bool
	}{
		{"256 raw: hash on host", gost3410.CryptoProA, offering(raw256, hash256), raw256, false, false},
		{"512 raw: hash on host", gost3410.TC26512A, offering(raw512, hash512), raw512, false, false},
		{"no list: hash on host", gost3410.CryptoProC, offering(), raw256, false, false},
		{"256 hash-on-token only", gost3410.CryptoProA, offering(hash256), hash256, true, false},
		{"512 hash-on-token only", gost3410.TC26512C, offering(hash512), hash512, true, false},
		{"512 key, 256 mechanisms only", gost3410.TC26512A, offering(raw256, hash256), 0, false, true},
		{"none", gost3410.CryptoProA, offering(ck.CKM_RSA_PKCS), 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, onToken, err := gostMessageMechanism(tc.ps, tc.offers)
			if tc.fails {
				if !errors.Is(err, ErrMechanismInvalid) {
					t.Fatalf("got %s, %v; want ErrMechanismInvalid", mechanismName(got), err)
				}
				return
			}
			if err != nil || got != tc.want || onToken != tc.onToken {
				t.Fatalf("got %s on token %v, %v; want %s on token %v", mechanismName(got), onToken, err, mechanismName(tc.want), tc.onToken)
			}
		})
	}
}

func TestGOSTParamSetOIDs(t *testing.T) {
	for _, ps := range gost3410.ParamSets() {
		der := oidDER(ps.OID)
		kt, other := uint(CKK_GOSTR3410), uint(CKK_GOSTR3410_512)
		if ps.Size() == 64 {
			kt, other = other, kt
		}
		got, err := gostParamSet(kt, der)
		if ps.Legacy {
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Errorf("%s (legacy): %v, want ErrUnsupportedKey", ps.Name, err)
			}
			continue
		}
		if err != nil || got != ps {
			t.Errorf("%s: got %v, %v", ps.Name, got, err)
		}
		if _, err := gostParamSet(other, der); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("%s on the other key size: %v, want ErrUnsupportedKey", ps.Name, err)
		}
	}
	for _, tc := range []struct {
		name string
		der  []byte
	}{
		{"no tag", oidDER(gost3410.CryptoProA.OID)[2:]},
		{"trailing byte", append(oidDER(gost3410.CryptoProA.OID), 0)},
		{"OCTET STRING", append([]byte{4, 9}, oidDER(gost3410.CryptoProA.OID)[2:]...)},
		{"unknown OID", oidDER(asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 9})},
		{"Streebog OID", oidDER(gostkey.OIDStreebog256)},
		{"empty", nil},
	} {
		if ps, err := gostParamSet(CKK_GOSTR3410, tc.der); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("%s: got %v, %v; want ErrUnsupportedKey", tc.name, ps, err)
		}
	}
	// CKA_GOSTR3411_PARAMS written for generated keys.
	if got := gostDigestParams(gost3410.CryptoProA); string(got) != "\x06\x08\x2a\x85\x03\x07\x01\x01\x02\x02" {
		t.Errorf("Streebog-256 params % X", got)
	}
	if got := gostDigestParams(gost3410.TC26512A); string(got) != "\x06\x08\x2a\x85\x03\x07\x01\x01\x02\x03" {
		t.Errorf("Streebog-512 params % X", got)
	}
	if !isGOST2001(oidDER(gostkey.OIDGOST341194)) || isGOST2001(gostDigestParams(gost3410.CryptoProA)) || isGOST2001(nil) {
		t.Error("isGOST2001")
	}
}

func TestGOSTPublicKeyValue(t *testing.T) {
	for _, ps := range gost3410.ParamSets() {
		if ps.Legacy {
			continue
		}
		t.Run(ps.Name, func(t *testing.T) {
			priv, err := gost3410.GenerateKey(ps, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := priv.PublicKey()
			bare := want.Bytes()
			wrapped := gostkey.MarshalPublicKeyValue(want)
			for name, v := range map[string][]byte{"bare": bare, "OCTET STRING": wrapped} {
				got, err := gostPublicKey(ps, v)
				if err != nil || !got.Equal(want) {
					t.Errorf("%s: %v", name, err)
				}
			}
			other := gost3410.CryptoProA
			if ps.Size() == 32 {
				other = gost3410.TC26512A
			}
			for name, v := range map[string][]byte{
				"short":              bare[:len(bare)-1],
				"long":               append(bare, 0),
				"OCTET STRING +1":    append(wrapped, 0),
				"OCTET STRING short": wrapped[:len(wrapped)-1],
				"BIT STRING":         append([]byte{3, byte(len(bare) + 1), 0}, bare...),
				"not on the curve":   append(append([]byte{}, bare[:len(bare)-1]...), bare[len(bare)-1]^1),
				"empty":              nil,
			} {
				if _, err := gostPublicKey(ps, v); err == nil {
					t.Errorf("%s: accepted", name)
				}
			}
			if _, err := gostPublicKey(other, bare); err == nil {
				t.Errorf("value accepted on %s", other.Name)
			}
		})
	}
}

// attrs is an attrReader over a map: absent attributes give
// CKR_ATTRIBUTE_TYPE_INVALID and nil values CKR_ATTRIBUTE_SENSITIVE, as
// modules do.
func attrs(m map[uint][]byte) attrReader {
	return func(typ uint) ([]byte, error) {
		v, ok := m[typ]
		switch {
		case !ok:
			return nil, fakeErr("C_GetAttributeValue", ck.CKR_ATTRIBUTE_TYPE_INVALID)
		case v == nil:
			return nil, fakeErr("C_GetAttributeValue", ck.CKR_ATTRIBUTE_SENSITIVE)
		}
		return v, nil
	}
}

func TestPublicFromAttributesGOST(t *testing.T) {
	priv, _ := gost3410.GenerateKey(gost3410.TC26512B, nil)
	pub := priv.PublicKey()
	params := oidDER(gost3410.TC26512B.OID)
	for _, tc := range []struct {
		name    string
		keyType uint
		private bool
		attrs   map[uint][]byte
		want    bool  // a public key comes out
		err     error // wanted sentinel; nil with want false: nil key, no error
	}{
		{"public object, bare value", CKK_GOSTR3410_512, false, map[uint][]byte{CKA_GOSTR3410_PARAMS: params, ck.CKA_VALUE: pub.Bytes()}, true, nil},
		{"public object, OCTET STRING value", CKK_GOSTR3410_512, false, map[uint][]byte{CKA_GOSTR3410_PARAMS: params, ck.CKA_VALUE: gostkey.MarshalPublicKeyValue(pub), CKA_GOSTR3411_PARAMS: gostDigestParams(gost3410.TC26512B)}, true, nil},
		{"public object without value", CKK_GOSTR3410_512, false, map[uint][]byte{CKA_GOSTR3410_PARAMS: params}, false, nil},
		{"public value sensitive", CKK_GOSTR3410_512, false, map[uint][]byte{CKA_GOSTR3410_PARAMS: params, ck.CKA_VALUE: nil}, false, nil},
		// A private key's CKA_VALUE is its scalar: never read (the reader fails the test if it is).
		{"private object", CKK_GOSTR3410_512, true, map[uint][]byte{CKA_GOSTR3410_PARAMS: params, ck.CKA_VALUE: priv.Bytes()}, false, nil},
		{"no params", CKK_GOSTR3410_512, false, map[uint][]byte{ck.CKA_VALUE: pub.Bytes()}, false, errMissingAttr},
		{"256 key type, 512 params", CKK_GOSTR3410, false, map[uint][]byte{CKA_GOSTR3410_PARAMS: params, ck.CKA_VALUE: pub.Bytes()}, false, ErrUnsupportedKey},
		{"GOST R 34.10-2001", CKK_GOSTR3410, true, map[uint][]byte{CKA_GOSTR3410_PARAMS: oidDER(gost3410.CryptoProA.OID), CKA_GOSTR3411_PARAMS: oidDER(gostkey.OIDGOST341194)}, false, ErrUnsupportedKey},
		{"unknown key type", 0x12345, false, nil, false, ErrUnsupportedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			get := attrs(tc.attrs)
			if tc.private {
				get = func(typ uint) ([]byte, error) {
					if typ == ck.CKA_VALUE {
						t.Fatal("CKA_VALUE of a private key read")
					}
					return attrs(tc.attrs)(typ)
				}
			}
			got, err := publicFromAttributes(tc.keyType, tc.private, get)
			switch {
			case tc.want:
				if err != nil || !equalKeys(got, pub) {
					t.Fatalf("got %v, %v", got, err)
				}
			case tc.err == errMissingAttr:
				if err == nil || !strings.Contains(err.Error(), "CKA_GOSTR3410_PARAMS") {
					t.Fatalf("got %v, %v; want a missing CKA_GOSTR3410_PARAMS error", got, err)
				}
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("got %v, %v; want %v", got, err, tc.err)
				}
			default:
				if got != nil || err != nil {
					t.Fatalf("got %v, %v; want nothing", got, err)
				}
			}
		})
	}
}

// errMissingAttr marks, in the table above, a required attribute that is
// missing.
var errMissingAttr = errors.New("test: required attribute missing")
