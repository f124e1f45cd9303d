package gost28147

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kepkit/kep/gost/internal/vectors"
	"github.com/kepkit/kep/internal/ossltest"
)

// withParams returns a peer whose gost engine uses the S-box oid for its
// gost89 cipher (the engine's CRYPT_PARAMS control; it does not change
// gost89-cnt, gost-mac or their -12 variants, which have fixed S-boxes).
func withParams(t *testing.T, o *ossltest.OpenSSL, name string) *ossltest.OpenSSL {
	engine, err := ossltest.FindEngine()
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(o.Dir, "openssl-"+name+".cnf")
	text := ossltest.Config(engine) + "CRYPT_PARAMS = " + name + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &ossltest.OpenSSL{Bin: o.Bin, Conf: conf, Dir: o.Dir}
}

// TestOpenSSLDifferential compares random cases with OpenSSL's gost engine:
// gost89 (CFB with key meshing) on the six S-boxes the engine has, gost89-cnt
// (CryptoPro-A) and gost89-cnt-12 (tc26-z) counter mode with key meshing.
// Lengths cluster around the 1024-byte meshing boundary; both directions are
// checked (kep decrypts what OpenSSL encrypted, and OpenSSL decrypts what kep
// encrypted for every fourth case). The openssl runs go three at a time.
func TestOpenSSLDifferential(t *testing.T) {
	o := ossltest.New(t)
	cfbSets := map[string]*SBox{
		"id-Gost28147-89-CryptoPro-A-ParamSet": CryptoProA, "id-Gost28147-89-CryptoPro-B-ParamSet": CryptoProB,
		"id-Gost28147-89-CryptoPro-C-ParamSet": CryptoProC, "id-Gost28147-89-CryptoPro-D-ParamSet": CryptoProD,
		"id-tc26-gost-28147-param-Z": TC26Z, "id-Gost28147-89-TestParamSet": Test,
	}
	peers := map[string]*ossltest.OpenSSL{}
	var names []string
	for n := range cfbSets {
		peers[n] = withParams(t, o, n)
		names = append(names, n)
	}
	slices.Sort(names)
	r := rand.New(rand.NewPCG(2814789, 4357))
	lengths := []int{0, 1, 7, 8, 9, 1016, 1023, 1024, 1025, 1031, 1032, 2047, 2048, 2049, 3072, 4100}
	const cases = 60
	type result struct {
		kind string
		err  string
	}
	results := make([]result, cases)
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	for i := 0; i < cases; i++ {
		n := r.IntN(3500)
		if i < len(lengths) {
			n = lengths[i]
		}
		key, iv, msg := make([]byte, 32), make([]byte, 8), make([]byte, n)
		for _, b := range [][]byte{key, iv, msg} {
			for j := range b {
				b[j] = byte(r.Uint32())
			}
		}
		in := o.WriteFile(t, fmt.Sprintf("in%d", i), msg)
		kh, ivh := hex.EncodeToString(key), hex.EncodeToString(iv)
		kind := []string{"cfb", "cfb", "cfb", "cnt", "cnt-12"}[i%5]
		name := names[i%len(names)]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res := &results[i]
			res.kind = kind
			fail := func(f string, a ...any) {
				res.err += fmt.Sprintf("case %d %s, %d bytes, key %s iv %s: ", i, kind, n, kh, ivh) + fmt.Sprintf(f, a...) + "\n"
			}
			var got, want []byte
			switch kind {
			case "cfb":
				p := peers[name]
				out, err := p.Run(nil, "enc", "-gost89", "-K", kh, "-iv", ivh, "-in", in)
				if err != nil {
					fail("%v", err)
					return
				}
				want = out
				c, _ := NewCipher(key, cfbSets[name])
				s, _ := NewCFBEncrypter(c, iv, true)
				got = make([]byte, n)
				s.XORKeyStream(got, msg)
				back := make([]byte, len(want))
				d, _ := NewCFBDecrypter(c, iv, true)
				d.XORKeyStream(back, want)
				if !bytes.Equal(back, msg) {
					fail("%s: kep does not decrypt OpenSSL's ciphertext", cfbSets[name].Name)
				}
				if i%4 == 0 {
					ct := filepath.Join(o.Dir, fmt.Sprintf("ct%d", i))
					os.WriteFile(ct, got, 0o600)
					pt, err := p.Run(nil, "enc", "-d", "-gost89", "-K", kh, "-iv", ivh, "-in", ct)
					if err != nil || !bytes.Equal(pt, msg) {
						fail("%s: OpenSSL does not decrypt kep's ciphertext (%v)", cfbSets[name].Name, err)
					}
				}
			case "cnt", "cnt-12":
				sb, alg := CryptoProA, "-gost89-cnt"
				if kind == "cnt-12" {
					sb, alg = TC26Z, "-gost89-cnt-12"
				}
				out, err := o.Run(nil, "enc", alg, "-K", kh, "-iv", ivh, "-in", in)
				if err != nil {
					fail("%v", err)
					return
				}
				want = out
				c, _ := NewCipher(key, sb)
				s, _ := NewCNT(c, iv, true)
				got = make([]byte, n)
				s.XORKeyStream(got, msg)
			}
			if !bytes.Equal(got, want) {
				fail("\n got  %x\n want %x", clip(got), clip(want))
			}
		}()
	}
	wg.Wait()
	counts := map[string]int{}
	for _, res := range results {
		if res.err != "" {
			t.Error(res.err)
		}
		counts[res.kind]++
	}
	t.Logf("%d cases agree with OpenSSL's gost engine: %v", cases, counts)
}

// TestOpenSSLMAC compares the imitovstavka with OpenSSL's gost-mac
// (CryptoPro-A) and gost-mac-12 (tc26-z), both with key meshing: 12 keys,
// 20 messages each (one openssl run per key), lengths 0 to 3000.
func TestOpenSSLMAC(t *testing.T) {
	o := ossltest.New(t)
	r := rand.New(rand.NewPCG(5, 28147))
	total := 0
	for k := 0; k < 12; k++ {
		sb, alg := CryptoProA, "gost-mac"
		if k%2 == 1 {
			sb, alg = TC26Z, "gost-mac-12"
		}
		key := make([]byte, 32)
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		var msgs [][]byte
		var files []string
		for m := 0; m < 20; m++ {
			n := []int{0, 1, 4, 8, 9, 16, 1024, 1032, 1033}[m%9]
			if m >= 9 {
				n = r.IntN(3000)
			}
			msg := make([]byte, n)
			for j := range msg {
				msg[j] = byte(r.Uint32())
			}
			msgs = append(msgs, msg)
			files = append(files, o.WriteFile(t, fmt.Sprintf("k%dm%d", k, m), msg))
		}
		out := o.MustRun(t, nil, append([]string{"dgst", "-mac", alg, "-macopt", "hexkey:" + hex.EncodeToString(key), "-r"}, files...)...)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != len(files) {
			t.Fatalf("openssl printed %d lines for %d files", len(lines), len(files))
		}
		c, _ := NewCipher(key, sb)
		for m, line := range lines {
			h, _, _ := strings.Cut(line, " ")
			want, err := hex.DecodeString(h)
			if err != nil {
				t.Fatalf("openssl dgst printed %q", line)
			}
			mac, _ := NewMAC(c, nil, true)
			mac.Write(msgs[m])
			if got := mac.Sum(nil); !bytes.Equal(got, want) {
				t.Errorf("%s, key %x, %d bytes: got %x, OpenSSL %x", alg, key, len(msgs[m]), got, want)
			}
			total++
		}
	}
	t.Logf("%d MACs agree with OpenSSL gost-mac / gost-mac-12", total)
}

func clip(b []byte) []byte {
	if len(b) > 48 {
		return b[:48]
	}
	return b
}

// TestOpenSSLMagmaVectors recomputes the Magma ECB examples (RFC 8891 A.4,
// GOST R 34.13-2015 A.2.1) with OpenSSL's magma-cbc under a zero IV, one
// block per run (CBC with a zero IV is ECB on one block), so that the
// published values are confirmed independently of kep.
func TestOpenSSLMagmaVectors(t *testing.T) {
	o := ossltest.New(t)
	n := 0
	for i, v := range vectors.Load(t, "testdata/magma-vectors.txt") {
		if v.Str(t, "kind") != "ecb" {
			continue
		}
		key, in, want := v.Hex(t, "key"), v.Hex(t, "in"), v.Hex(t, "out")
		for j := 0; j < len(in); j += BlockSize {
			f := o.WriteFile(t, fmt.Sprintf("mv%d-%d", i, j), in[j:j+BlockSize])
			got := o.MustRun(t, nil, "enc", "-magma-cbc", "-nopad", "-K", hex.EncodeToString(key), "-iv", "0000000000000000", "-in", f)
			if !bytes.Equal(got, want[j:j+BlockSize]) {
				t.Errorf("%v block %d: OpenSSL computes %x, the standard says %x", v, j/BlockSize, got, want[j:j+BlockSize])
			}
			n++
		}
	}
	if n != 5 {
		t.Fatalf("%d blocks recomputed, want 5", n)
	}
}
