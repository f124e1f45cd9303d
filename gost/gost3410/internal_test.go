package gost3410

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"os"
	"strings"
	"testing"
)

// readVectors parses a file of "key: value" blocks separated by blank lines.
func readVectors(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	cur := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#"):
		case line == "":
			if len(cur) > 0 {
				out = append(out, cur)
				cur = map[string]string{}
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("%s: bad line %q", path, line)
			}
			cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no vectors", path)
	}
	return out
}

func fixed(t *testing.T, hexBE string, size int) []byte {
	t.Helper()
	v, ok := new(big.Int).SetString(hexBE, 16)
	if !ok {
		t.Fatalf("bad hex %q", hexBE)
	}
	return v.FillBytes(make([]byte, size))
}

func le(b []byte) []byte {
	out := append([]byte(nil), b...)
	reverse(out)
	return out
}

// TestRFC7091 checks the worked examples: public key, the exact signature for
// the RFC's nonce, and verification.
func TestRFC7091(t *testing.T) {
	for _, v := range readVectors(t, "testdata/rfc7091.txt") {
		t.Run(v["paramset"], func(t *testing.T) {
			ps, err := ParamSetByName(v["paramset"])
			if err != nil {
				t.Fatal(err)
			}
			n := ps.Size()
			priv, err := NewPrivateKey(ps, le(fixed(t, v["d"], n)))
			if err != nil {
				t.Fatal(err)
			}
			wantPub := append(le(fixed(t, v["qx"], n)), le(fixed(t, v["qy"], n))...)
			if got := priv.PublicKey().Bytes(); !bytes.Equal(got, wantPub) {
				t.Fatalf("public key\n got %x\nwant %x", got, wantPub)
			}
			digest := le(fixed(t, v["e"], n))
			var e, k fe
			ps.curve.digestScalar(&e, digest)
			ps.curve.fq.Reduce(&k, le(fixed(t, v["k"], n)))
			want := append(fixed(t, v["s"], n), fixed(t, v["r"], n)...)
			if got := priv.signWithNonce(&e, &k); !bytes.Equal(got, want) {
				t.Fatalf("signature\n got %x\nwant %x", got, want)
			}
			pub, err := NewPublicKey(ps, wantPub)
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.VerifyDigest(digest, want); err != nil {
				t.Fatalf("RFC signature does not verify: %v", err)
			}
			bad := append([]byte(nil), digest...)
			bad[0] ^= 1
			if pub.VerifyDigest(bad, want) == nil {
				t.Fatal("signature verifies over a different digest")
			}
		})
	}
}

// edwards holds RFC 7836's twisted Edwards form of the two Edwards sets and
// the (u, v) of their base points.
var edwards = map[string]struct{ e, d, u, v string }{
	"tc26-256-a": {"1", "0605F6B7C183FA81578BC39CFAD518132B9DF62897009AF7E522C32D6DC7BFFB",
		"0D", "60CA1E32AA475B348488C38FAB07649CE7EF8DBE87F22E81F92B2592DBA300E7"},
	"tc26-512-c": {"1", "9E4F5D8C017D8D9F13A5CF3CDF5BFE4DAB402D54198E31EBDE28A0621050439CA6B39E0A515C06B304E2CE43E79E369E91A0CFC2BC2A22B4CA302DBB33EE7550",
		"12", "469AF79D1FB1F5E16B99592B77A01E2A0FDFB0D01794368D9A56117F7B38669522DD4B650CF789EEBF068C5D139732F0905622C04B2BAAE7600303EE73001A3D"},
}

// TestParamSetChecks runs the checks RFC 7836 asks of a parameter set with
// math/big as an independent calculator, and checks q·G = O with our code.
func TestParamSetChecks(t *testing.T) {
	seen := map[string]bool{}
	for _, ps := range ParamSets() {
		t.Run(ps.Name, func(t *testing.T) {
			c := ps.curve
			s := c.spec
			p, q, a, b := hexInt(s.p), hexInt(s.q), hexInt(s.a), hexInt(s.b)
			x, y := hexInt(s.gx), hexInt(s.gy)
			if !p.ProbablyPrime(32) || !q.ProbablyPrime(32) {
				t.Fatal("p or q is not prime")
			}
			if p.BitLen() > 8*ps.Size() || q.BitLen() > 8*ps.Size() || p.BitLen() < 8*ps.Size()-1 {
				t.Fatalf("sizes: p %d bits, q %d bits, set size %d", p.BitLen(), q.BitLen(), ps.Size())
			}
			// 4a³ + 27b² ≠ 0 (mod p)
			disc := new(big.Int).Exp(a, big.NewInt(3), p)
			disc.Mul(disc, big.NewInt(4))
			disc.Add(disc, new(big.Int).Mul(big.NewInt(27), new(big.Int).Exp(b, big.NewInt(2), p)))
			if disc.Mod(disc, p).Sign() == 0 {
				t.Fatal("singular curve")
			}
			// y² = x³ + ax + b
			lhs := new(big.Int).Exp(y, big.NewInt(2), p)
			rhs := new(big.Int).Exp(x, big.NewInt(3), p)
			rhs.Add(rhs, new(big.Int).Mul(a, x)).Add(rhs, b).Mod(rhs, p)
			if lhs.Cmp(rhs) != 0 {
				t.Fatal("G is not on the curve")
			}
			// Hasse: |p + 1 − h·q| ≤ 2√p
			tr := new(big.Int).Add(p, big.NewInt(1))
			tr.Sub(tr, new(big.Int).Mul(big.NewInt(c.cofactor), q)).Abs(tr)
			bound := new(big.Int).Sqrt(p)
			bound.Lsh(bound, 1).Add(bound, big.NewInt(1))
			if tr.Cmp(bound) > 0 {
				t.Fatal("h·q is not the order of a curve over GF(p)")
			}
			if c.aIsMinus3 != (new(big.Int).Sub(p, a).Cmp(big.NewInt(3)) == 0) {
				t.Fatal("aIsMinus3 wrong")
			}
			// q·G = O and (q−1)·G = −G
			var g, r jacobian
			c.setAffine(&g, &c.g)
			qle := le(q.FillBytes(make([]byte, ps.Size())))
			c.scalarMultVar(&r, &g, qle)
			if !c.isInfinity(&r) {
				t.Fatal("q·G ≠ O")
			}
			qm1 := le(new(big.Int).Sub(q, big.NewInt(1)).FillBytes(make([]byte, ps.Size())))
			c.baseMult(&r, qm1)
			var ra affinePoint
			c.toAffine(&ra, &r)
			if c.fp.Big(&ra.x).Cmp(x) != 0 || new(big.Int).Add(c.fp.Big(&ra.y), y).Cmp(p) != 0 {
				t.Fatal("(q−1)·G ≠ −G by the comb")
			}
			if ed, ok := edwards[s.name]; ok && !seen[s.name] {
				checkEdwards(t, p, a, b, x, y, ed.e, ed.d, ed.u, ed.v)
			}
			seen[s.name] = true
		})
	}
}

// checkEdwards checks RFC 7836's map from the twisted Edwards curve
// e·u² + v² = 1 + d·u²v² to the Weierstrass (a, b) and base point (x, y):
// s = (e−d)/4, t = (e+d)/6, a = s² − 3t², b = 2t³ − ts²,
// x = s(1+v)/(1−v) + t, y = s(1+v)/((1−v)u).
func checkEdwards(t *testing.T, p, a, b, x, y *big.Int, eh, dh, uh, vh string) {
	e, d, u, v := hexInt(eh), hexInt(dh), hexInt(uh), hexInt(vh)
	mod := func(z *big.Int) *big.Int { return z.Mod(z, p) }
	inv := func(z *big.Int) *big.Int { return new(big.Int).ModInverse(z, p) }
	s := mod(new(big.Int).Mul(new(big.Int).Sub(e, d), inv(big.NewInt(4))))
	tt := mod(new(big.Int).Mul(new(big.Int).Add(e, d), inv(big.NewInt(6))))
	s2 := mod(new(big.Int).Mul(s, s))
	t2 := mod(new(big.Int).Mul(tt, tt))
	wantA := mod(new(big.Int).Sub(s2, new(big.Int).Mul(big.NewInt(3), t2)))
	wantB := mod(new(big.Int).Sub(new(big.Int).Mul(big.NewInt(2), new(big.Int).Mul(t2, tt)), new(big.Int).Mul(tt, s2)))
	if wantA.Cmp(a) != 0 || wantB.Cmp(b) != 0 {
		t.Fatal("Edwards (e, d) do not map to (a, b)")
	}
	onePlusV := new(big.Int).Add(big.NewInt(1), v)
	oneMinusV := mod(new(big.Int).Sub(big.NewInt(1), v))
	k := mod(new(big.Int).Mul(new(big.Int).Mul(s, onePlusV), inv(oneMinusV)))
	wantX := mod(new(big.Int).Add(k, tt))
	wantY := mod(new(big.Int).Mul(k, inv(u)))
	if wantX.Cmp(x) != 0 || wantY.Cmp(y) != 0 {
		t.Fatal("Edwards base point (u, v) does not map to (x, y)")
	}
	// the Edwards equation itself
	u2, v2 := mod(new(big.Int).Mul(u, u)), mod(new(big.Int).Mul(v, v))
	lhs := mod(new(big.Int).Add(new(big.Int).Mul(e, u2), v2))
	rhs := mod(new(big.Int).Add(big.NewInt(1), new(big.Int).Mul(d, new(big.Int).Mul(u2, v2))))
	if lhs.Cmp(rhs) != 0 {
		t.Fatal("(u, v) is not on the Edwards curve")
	}
}

// TestScalarMultAgree compares the constant-time comb, the variable-time comb
// and the wNAF ladder on random and edge scalars.
func TestScalarMultAgree(t *testing.T) {
	for _, ps := range []*ParamSet{CryptoProA, CryptoProB, CryptoProC, TC26256A, TC26512A, TC26512B, TC26512C, TC26512Test, GOST2001Test} {
		c := ps.curve
		n := ps.Size()
		qm1 := new(big.Int).Sub(c.q, big.NewInt(1))
		scalars := [][]byte{
			le(big.NewInt(1).FillBytes(make([]byte, n))),
			le(big.NewInt(2).FillBytes(make([]byte, n))),
			le(big.NewInt(15).FillBytes(make([]byte, n))),
			le(big.NewInt(16).FillBytes(make([]byte, n))),
			le(qm1.FillBytes(make([]byte, n))),
			le(new(big.Int).Rsh(c.q, 1).FillBytes(make([]byte, n))),
		}
		for i := 0; i < 20; i++ {
			var k fe
			buf := make([]byte, n+16)
			if err := randomScalar(c, &k, rand.Reader, buf); err != nil {
				t.Fatal(err)
			}
			kb := make([]byte, n)
			c.fq.BytesLE(kb, &k)
			scalars = append(scalars, kb)
		}
		var g jacobian
		c.setAffine(&g, &c.g)
		for _, k := range scalars {
			var r1, r2, r3 jacobian
			var a1, a2, a3 affinePoint
			c.baseMult(&r1, k)
			c.baseMultVar(&r2, k)
			c.scalarMultVar(&r3, &g, k)
			c.toAffine(&a1, &r1)
			c.toAffine(&a2, &r2)
			c.toAffine(&a3, &r3)
			if a1 != a2 || a1 != a3 {
				t.Fatalf("%s: k=%s: comb, variable comb and wNAF disagree", ps.Name, hex.EncodeToString(k))
			}
			// The public entry point (Edwards arithmetic on the Edwards sets).
			var a4 affinePoint
			c.mulBaseAffine(&a4, k)
			if a4 != a1 {
				t.Fatalf("%s: k=%s: mulBaseAffine disagrees with the Weierstrass comb", ps.Name, hex.EncodeToString(k))
			}
			// Strauss–Shamir z1·G + z2·(kG) against the separate products.
			var k2 fe
			buf2 := make([]byte, n+16)
			if err := randomScalar(c, &k2, rand.Reader, buf2); err != nil {
				t.Fatal(err)
			}
			z2 := make([]byte, n)
			c.fq.BytesLE(z2, &k2)
			var sep, qz, joint jacobian
			c.baseMultVar(&sep, k)
			c.scalarMultVar(&qz, &r1, z2)
			c.add(&sep, &sep, &qz)
			c.doubleMultVar(&joint, k, &r1, z2)
			var as, aj affinePoint
			if !c.isInfinity(&sep) {
				c.toAffine(&as, &sep)
				c.toAffine(&aj, &joint)
				if as != aj {
					t.Fatalf("%s: Strauss–Shamir disagrees", ps.Name)
				}
			}
			if c.ed != nil {
				var pe, je edPoint
				var pa edAffine
				c.edFromWeierstrass(&pa, &a1)
				c.edSetAffine(&pe, &pa)
				c.edDoubleMultVar(&je, k, &pe, z2)
				var ae affinePoint
				if !c.isInfinity(&sep) {
					c.edToWeierstrass(&ae, &je)
					if ae != as {
						t.Fatalf("%s: Edwards Strauss–Shamir disagrees", ps.Name)
					}
				}
			}
			if c.ed != nil {
				var ge, r4, r5 edPoint
				var g4 edAffine
				c.edFromWeierstrass(&g4, &c.g)
				c.edSetAffine(&ge, &g4)
				c.edScalarMultVar(&r4, &ge, k)
				c.edBaseMultVar(&r5, k)
				var a5, a6 affinePoint
				c.edToWeierstrass(&a5, &r4)
				c.edToWeierstrass(&a6, &r5)
				if a5 != a1 || a6 != a1 {
					t.Fatalf("%s: k=%s: Edwards wNAF or variable comb disagrees", ps.Name, hex.EncodeToString(k))
				}
			}
			if !c.onCurve(&a1) {
				t.Fatalf("%s: result not on curve", ps.Name)
			}
		}
	}
}

// TestWNAF checks that the digits reconstruct the scalar and obey the NAF rules.
func TestWNAF(t *testing.T) {
	for i := 0; i < 500; i++ {
		k := make([]byte, 32+32*(i%2))
		if _, err := rand.Read(k); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			for j := range k {
				k[j] = 0xFF
			}
		}
		w := 4 + i%5 // widths 4…8
		d := make([]int8, 8*len(k)+1)
		wnaf(d, k, w)
		sum := new(big.Int)
		for j := len(d) - 1; j >= 0; j-- {
			sum.Lsh(sum, 1)
			sum.Add(sum, big.NewInt(int64(d[j])))
			if lim := 1<<(w-1) - 1; d[j] != 0 && (d[j]%2 == 0 || int(d[j]) > lim || int(d[j]) < -lim) {
				t.Fatalf("bad digit %d", d[j])
			}
		}
		if sum.Cmp(new(big.Int).SetBytes(le(k))) != 0 {
			t.Fatalf("wNAF of %x does not reconstruct it", k)
		}
	}
}
