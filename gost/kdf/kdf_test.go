package kdf

import (
	"bytes"
	"testing"

	"github.com/kepkit/kep/gost/internal/vectors"
)

func TestVectors(t *testing.T) {
	counts := map[string]int{}
	for _, v := range vectors.Load(t, "testdata/vectors.txt") {
		kind := v.Str(t, "kind")
		want := v.Hex(t, "out")
		var got []byte
		var err error
		switch kind {
		case "hmac256", "hmac512":
			h := NewHMAC256(v.Hex(t, "key"))
			if kind == "hmac512" {
				h = NewHMAC512(v.Hex(t, "key"))
			}
			h.Write(v.Hex(t, "in"))
			got = h.Sum(nil)
		case "kdf256":
			got = KDF256(v.Hex(t, "key"), v.Hex(t, "label"), v.Hex(t, "seed"))
			// KDF256 is KDF_TREE with R = 1 and 32 bytes.
			tree, err := KDFTree256(v.Hex(t, "key"), v.Hex(t, "label"), v.Hex(t, "seed"), 1, 32)
			if err != nil || !bytes.Equal(tree, got) {
				t.Errorf("%v: KDFTree256(R=1, 32) = %x, %v", v, tree, err)
			}
		case "kdftree":
			got, err = KDFTree256(v.Hex(t, "key"), v.Hex(t, "label"), v.Hex(t, "seed"), v.Int(t, "r"), len(want))
		case "pbkdf2-512":
			got, err = PBKDF2Streebog512(v.Hex(t, "password"), v.Hex(t, "salt"), v.Int(t, "iter"), len(want))
		case "pbkdf2-94":
			got, err = PBKDF2(NewHMACGOST94, v.Hex(t, "password"), v.Hex(t, "salt"), v.Int(t, "iter"), len(want))
		default:
			t.Fatalf("%v: unknown kind", v)
		}
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%v:\n got  %x\n want %x", v, got, want)
		}
		v.CheckUsed(t)
		counts[kind]++
	}
	t.Logf("vectors: %v", counts)
	if counts["hmac256"] != 1 || counts["hmac512"] != 1 || counts["kdf256"] != 1 || counts["kdftree"] != 1 || counts["pbkdf2-512"] != 5 || counts["pbkdf2-94"] != 3 {
		t.Fatalf("the vector file lost cases: %v", counts)
	}
}

func TestErrors(t *testing.T) {
	if _, err := PBKDF2Streebog512([]byte("p"), nil, 0, 32); err == nil {
		t.Error("0 iterations accepted")
	}
	if _, err := KDFTree256(nil, nil, nil, 1, 32*256); err == nil {
		t.Error("KDF_TREE with R = 1 and 256 blocks accepted")
	}
	if _, err := KDFTree256(nil, nil, nil, 5, 32); err == nil {
		t.Error("R = 5 accepted")
	}
	a, _ := KDFTree256([]byte("k"), []byte("l"), []byte("s"), 2, 100)
	b, _ := KDFTree256([]byte("k"), []byte("l"), []byte("s"), 2, 64)
	if bytes.Equal(a[:64], b) {
		t.Error("KDF_TREE output does not depend on its length (L is part of the input)")
	}
}
