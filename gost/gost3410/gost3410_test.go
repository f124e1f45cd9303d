package gost3410_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"math/big"
	mrand "math/rand/v2"
	"testing"

	gogost "github.com/ddulesov/gogost/gost3410"

	"github.com/kepkit/kep/gost/gost3410"
)

func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, ps := range gost3410.ParamSets() {
		t.Run(ps.Name, func(t *testing.T) {
			for i := 0; i < 20; i++ {
				priv, err := gost3410.GenerateKey(ps, nil)
				if err != nil {
					t.Fatal(err)
				}
				digest := randBytes(t, ps.Size())
				sig, err := priv.Sign(rand.Reader, digest, nil)
				if err != nil {
					t.Fatal(err)
				}
				pub := priv.PublicKey()
				if err := pub.VerifyDigest(digest, sig); err != nil {
					t.Fatalf("own signature does not verify: %v", err)
				}
				// a parsed copy of the public key verifies too, with and
				// without its precomputed table
				pub2, err := gost3410.NewPublicKey(ps, pub.Bytes())
				if err != nil || !pub2.Equal(pub) || !gost3410.Verify(pub2, digest, sig) {
					t.Fatalf("parsed public key: %v", err)
				}
				if i < 3 {
					pub2.Precompute()
					if !gost3410.Verify(pub2, digest, sig) {
						t.Fatal("precomputed key rejects a good signature")
					}
					bad := append([]byte(nil), sig...)
					bad[0] ^= 0x80
					if gost3410.Verify(pub2, digest, bad) {
						t.Fatal("precomputed key accepts a changed signature")
					}
				}
				// a changed bit anywhere in digest or signature fails
				d2 := append([]byte(nil), digest...)
				d2[mrand.IntN(len(d2))] ^= 1 << mrand.IntN(8)
				if gost3410.Verify(pub, d2, sig) {
					t.Fatal("verifies over a changed digest")
				}
				s2 := append([]byte(nil), sig...)
				s2[mrand.IntN(len(s2))] ^= 1 << mrand.IntN(8)
				if gost3410.Verify(pub, digest, s2) {
					t.Fatal("changed signature verifies")
				}
				// two signatures of one digest differ (fresh nonces)
				sig2, err := priv.Sign(nil, digest, nil)
				if err != nil || bytes.Equal(sig, sig2) {
					t.Fatalf("nonce reuse or error: %v", err)
				}
				// the key round-trips through its bytes
				priv2, err := gost3410.NewPrivateKey(ps, priv.Bytes())
				if err != nil || !priv2.Equal(priv) || !priv2.PublicKey().Equal(pub) {
					t.Fatalf("private key round trip: %v", err)
				}
			}
		})
	}
}

// TestDigestZeroModQ checks the rule e ≡ 0 → e = 1: a digest equal to q and a
// digest equal to 1 must verify the same signature.
func TestDigestZeroModQ(t *testing.T) {
	for _, ps := range []*gost3410.ParamSet{gost3410.CryptoProA, gost3410.TC26256A, gost3410.TC26512A} {
		priv, err := gost3410.GenerateKey(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		q := ps.Curve().Q().FillBytes(make([]byte, ps.Size()))
		reverseBytes(q)
		one := make([]byte, ps.Size())
		one[0] = 1
		sig, err := priv.Sign(nil, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !gost3410.Verify(priv.PublicKey(), one, sig) {
			t.Fatalf("%s: digest q and digest 1 differ", ps.Name)
		}
	}
}

func reverseBytes(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}

func TestBadInput(t *testing.T) {
	ps := gost3410.CryptoProA
	priv, err := gost3410.GenerateKey(ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.PublicKey()
	digest := randBytes(t, 32)
	sig, err := priv.Sign(nil, digest, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := ps.Curve().Q().FillBytes(make([]byte, 32))
	zero := make([]byte, 32)
	cases := []struct {
		name        string
		digest, sig []byte
		want        error
	}{
		{"short digest", digest[:31], sig, gost3410.ErrDigestLength},
		{"long digest", append(digest, 0), sig, gost3410.ErrDigestLength},
		{"short signature", digest, sig[:63], gost3410.ErrSignatureLength},
		{"empty signature", digest, nil, gost3410.ErrSignatureLength},
		{"512-bit signature", digest, append(sig, sig...), gost3410.ErrSignatureLength},
		{"s = 0", digest, append(zero, sig[32:]...), gost3410.ErrSignatureRange},
		{"r = 0", digest, append(append([]byte(nil), sig[:32]...), zero...), gost3410.ErrSignatureRange},
		{"s = q", digest, append(q, sig[32:]...), gost3410.ErrSignatureRange},
		{"r = q", digest, append(append([]byte(nil), sig[:32]...), q...), gost3410.ErrSignatureRange},
		{"r, s swapped", digest, append(append([]byte(nil), sig[32:]...), sig[:32]...), gost3410.ErrVerification},
	}
	for _, tc := range cases {
		if err := pub.VerifyDigest(tc.digest, tc.sig); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := priv.Sign(nil, digest[:31], nil); !errors.Is(err, gost3410.ErrDigestLength) {
		t.Errorf("Sign with short digest: %v", err)
	}

	raw := pub.Bytes()
	offCurve := append([]byte(nil), raw...)
	offCurve[0] ^= 1
	p := ps.Curve().P().FillBytes(make([]byte, 32))
	reverseBytes(p)
	keyCases := []struct {
		name string
		raw  []byte
		want error
	}{
		{"short", raw[:63], gost3410.ErrKeyLength},
		{"long", append(raw, 0), gost3410.ErrKeyLength},
		{"off curve", offCurve, gost3410.ErrPointNotOnCurve},
		{"X = p", append(p, raw[32:]...), gost3410.ErrPointNotOnCurve},
		{"all zero (infinity has no affine form)", make([]byte, 64), gost3410.ErrPointNotOnCurve},
	}
	for _, tc := range keyCases {
		if _, err := gost3410.NewPublicKey(ps, tc.raw); !errors.Is(err, tc.want) {
			t.Errorf("public key %s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := gost3410.NewPrivateKey(ps, make([]byte, 32)); !errors.Is(err, gost3410.ErrZeroKey) {
		t.Errorf("zero private key: %v", err)
	}
	qle := append([]byte(nil), q...)
	reverseBytes(qle)
	if _, err := gost3410.NewPrivateKey(ps, qle); !errors.Is(err, gost3410.ErrZeroKey) {
		t.Errorf("private key q: %v", err)
	}
	if _, err := gost3410.NewPrivateKey(ps, make([]byte, 31)); !errors.Is(err, gost3410.ErrKeyLength) {
		t.Errorf("short private key: %v", err)
	}
}

// TestSmallOrderPoint checks that a point on a cofactor-4 curve outside the
// subgroup of order q is refused as a public key.
func TestSmallOrderPoint(t *testing.T) {
	for _, ps := range []*gost3410.ParamSet{gost3410.TC26256A, gost3410.TC26512C} {
		c := ps.Curve()
		p, q := c.P(), c.Q()
		a, b := paramAB(ps)
		found := 0
		for x := int64(1); found < 3 && x < 1000; x++ {
			X := big.NewInt(x)
			rhs := new(big.Int).Exp(X, big.NewInt(3), p)
			rhs.Add(rhs, new(big.Int).Mul(a, X)).Add(rhs, b).Mod(rhs, p)
			Y := new(big.Int).ModSqrt(rhs, p)
			if Y == nil {
				continue
			}
			raw := append(leFixed(X, ps.Size()), leFixed(Y, ps.Size())...)
			pub, err := gost3410.NewPublicKey(ps, raw)
			// A point of the curve is in the q-subgroup with probability 1/4.
			inSub := isInSubgroup(ps, raw, q)
			if inSub && err != nil {
				t.Fatalf("%s: subgroup point refused: %v", ps.Name, err)
			}
			if !inSub {
				if !errors.Is(err, gost3410.ErrPointOrder) {
					t.Fatalf("%s: point outside the subgroup accepted (%v, %v)", ps.Name, pub, err)
				}
				found++
			}
		}
		if found == 0 {
			t.Fatalf("%s: found no point outside the subgroup to test", ps.Name)
		}
	}
}

func leFixed(v *big.Int, n int) []byte {
	b := v.FillBytes(make([]byte, n))
	reverseBytes(b)
	return b
}

// isInSubgroup decides subgroup membership with gogost as an independent
// calculator: P has order q exactly when (q−1)·P = −P.
func isInSubgroup(ps *gost3410.ParamSet, raw []byte, q *big.Int) bool {
	c := gogostCurve(ps)
	n := ps.Size()
	x := new(big.Int).SetBytes(reversed(raw[:n]))
	y := new(big.Int).SetBytes(reversed(raw[n:]))
	rx, ry, err := c.Exp(new(big.Int).Sub(q, big.NewInt(1)), x, y)
	if err != nil {
		return false
	}
	return rx.Cmp(x) == 0 && new(big.Int).Add(ry, y).Cmp(c.P) == 0
}

func reversed(b []byte) []byte {
	out := append([]byte(nil), b...)
	reverseBytes(out)
	return out
}

func paramAB(ps *gost3410.ParamSet) (*big.Int, *big.Int) {
	c := gogostCurve(ps)
	return c.A, c.B
}

func gogostCurve(ps *gost3410.ParamSet) *gogost.Curve {
	switch ps.Curve().Name() {
	case "cryptopro-a":
		return gogost.CurveIdGostR34102001CryptoProAParamSet()
	case "cryptopro-b":
		return gogost.CurveIdGostR34102001CryptoProBParamSet()
	case "cryptopro-c":
		return gogost.CurveIdGostR34102001CryptoProCParamSet()
	case "gost2001-test":
		return gogost.CurveIdGostR34102001TestParamSet()
	case "tc26-256-a":
		return gogost.CurveIdtc26gost34102012256paramSetA()
	case "tc26-512-a":
		return gogost.CurveIdtc26gost341012512paramSetA()
	case "tc26-512-b":
		return gogost.CurveIdtc26gost341012512paramSetB()
	case "tc26-512-c":
		return gogost.CurveIdtc26gost34102012512paramSetC()
	}
	return nil
}

// TestDifferentialGogost signs with one implementation and verifies with the
// other, in both directions, and compares public keys derived from the same
// private key. gogost reads the digest big-endian, so it gets the reversed
// digest (see gost-and-pkcs11.md); signatures and keys are passed unchanged.
func TestDifferentialGogost(t *testing.T) {
	total := 0
	for _, ps := range gost3410.ParamSets() {
		gc := gogostCurve(ps)
		if gc == nil {
			continue // tc26-512-test: gogost does not ship it; covered by RFC 7091's example
		}
		ps := ps
		t.Run(ps.Name, func(t *testing.T) {
			t.Parallel()
			n := ps.Size()
			mode := gogost.Mode2001
			if n == 64 {
				mode = gogost.Mode2012
			}
			cases := 120
			if n == 64 {
				cases = 40
			}
			if testing.Short() {
				cases /= 10
			}
			for i := 0; i < cases; i++ {
				priv, err := gost3410.GenerateKey(ps, nil)
				if err != nil {
					t.Fatal(err)
				}
				gpriv, err := gogost.NewPrivateKey(gc, mode, priv.Bytes())
				if err != nil {
					t.Fatal(err)
				}
				gpub, err := gpriv.PublicKey()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(gpub.Raw(), priv.PublicKey().Bytes()) {
					t.Fatalf("public keys differ for d=%x", priv.Bytes())
				}
				digest := randBytes(t, n)
				sig, err := priv.Sign(nil, digest, nil)
				if err != nil {
					t.Fatal(err)
				}
				if ok, err := gpub.VerifyDigest(reversed(digest), sig); !ok || err != nil {
					t.Fatalf("gogost rejects kep's signature: %v", err)
				}
				gsig, err := gpriv.SignDigest(reversed(digest), rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if err := priv.PublicKey().VerifyDigest(digest, gsig); err != nil {
					t.Fatalf("kep rejects gogost's signature: %v", err)
				}
			}
		})
		total++
	}
	if total < 10 {
		t.Fatalf("only %d parameter sets compared", total)
	}
}

func FuzzVerify(f *testing.F) {
	priv, err := gost3410.GenerateKey(gost3410.CryptoProA, nil)
	if err != nil {
		f.Fatal(err)
	}
	digest := make([]byte, 32)
	sig, err := priv.Sign(nil, digest, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(priv.PublicKey().Bytes(), digest, sig)
	f.Add([]byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, raw, digest, sig []byte) {
		for _, ps := range []*gost3410.ParamSet{gost3410.CryptoProA, gost3410.TC26256A, gost3410.TC26512A} {
			pub, err := gost3410.NewPublicKey(ps, raw)
			if err != nil {
				continue
			}
			// property: a parsed key re-encodes to the same bytes
			if !bytes.Equal(pub.Bytes(), raw) {
				t.Fatalf("public key does not round-trip")
			}
			err = pub.VerifyDigest(digest, sig)
			if err == nil && !gost3410.Verify(pub, digest, sig) {
				t.Fatal("VerifyDigest and Verify disagree")
			}
		}
	})
}

func FuzzPrivateKey(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(bytes.Repeat([]byte{0xFF}, 64))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, ps := range []*gost3410.ParamSet{gost3410.CryptoProA, gost3410.TC26256A, gost3410.TC26512C} {
			priv, err := gost3410.NewPrivateKey(ps, raw)
			if err != nil {
				continue
			}
			priv2, err := gost3410.NewPrivateKey(ps, priv.Bytes())
			if err != nil || !priv2.Equal(priv) {
				t.Fatalf("private key does not round-trip: %v", err)
			}
			digest := make([]byte, ps.Size())
			sig, err := priv.Sign(nil, digest, nil)
			if err != nil || !gost3410.Verify(priv.PublicKey(), digest, sig) {
				t.Fatalf("sign/verify with fuzz key: %v", err)
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	for _, ps := range gost3410.ParamSets() {
		b.Run(ps.Name, func(b *testing.B) {
			priv, err := gost3410.GenerateKey(ps, nil)
			if err != nil {
				b.Fatal(err)
			}
			digest := randBytes(b, ps.Size())
			priv.Sign(nil, digest, nil) // build the comb table outside the timing
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := priv.Sign(nil, digest, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) { benchVerify(b, gost3410.ParamSets(), false) }

// BenchmarkVerifyPrecomputed measures verification with a key whose table
// Precompute built (a trust anchor's or a CA's key).
func BenchmarkVerifyPrecomputed(b *testing.B) {
	benchVerify(b, []*gost3410.ParamSet{gost3410.CryptoProA, gost3410.TC26256A, gost3410.TC26512A}, true)
}

func benchVerify(b *testing.B, sets []*gost3410.ParamSet, precompute bool) {
	for _, ps := range sets {
		b.Run(ps.Name, func(b *testing.B) {
			priv, err := gost3410.GenerateKey(ps, nil)
			if err != nil {
				b.Fatal(err)
			}
			digest := randBytes(b, ps.Size())
			sig, err := priv.Sign(nil, digest, nil)
			if err != nil {
				b.Fatal(err)
			}
			pub := priv.PublicKey()
			if precompute {
				pub.Precompute()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := pub.VerifyDigest(digest, sig); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
