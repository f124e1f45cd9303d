package streebog

import (
	"bytes"
	"hash"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ddulesov/gogost/gost34112012256"
	"github.com/ddulesov/gogost/gost34112012512"
)

// gogost (github.com/ddulesov/gogost v1.0.0) is an independent implementation
// used here only as a test oracle. Its digests are in the same byte order as
// OpenSSL's and this package's (not reversed, unlike the numbers printed in
// RFC 6986), so they are compared as they are; TestGogostByteOrder checks that
// on the RFC vectors of testdata/vectors.txt.
func gogostSum(alg int, msg []byte) []byte {
	var h hash.Hash
	if alg == 256 {
		h = gost34112012256.New()
	} else {
		h = gost34112012512.New()
	}
	h.Write(msg)
	return h.Sum(nil)
}

func TestGogostByteOrder(t *testing.T) {
	n := 0
	for _, v := range readVectors(t) {
		if strings.HasPrefix(v.name, "RFC 6986 ") {
			n++
			if got := gogostSum(v.alg, v.msg); !bytes.Equal(got, v.digest) {
				t.Errorf("gogost %d on %s = %x, want %x", v.alg, v.name, got, v.digest)
			}
		}
	}
	if n != 4 {
		t.Fatalf("%d RFC 6986 vectors in vectors.txt, want 4", n)
	}
}

func TestGogostDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 2000
	if testing.Short() {
		n = 200
	}
	for i := range n {
		var size int
		switch i % 4 {
		case 0:
			size = r.IntN(3*BlockSize + 1) // around the first block boundaries
		case 1:
			size = BlockSize*r.IntN(20) + r.IntN(3) - 1 // exactly at a boundary, or one off
		default:
			size = r.IntN(2000)
		}
		size = max(size, 0)
		msg := make([]byte, size)
		for j := range msg {
			msg[j] = byte(r.Uint32())
		}
		if i%10 == 0 { // long runs of 0xff and 0x00 exercise the carries of Σ
			b := byte(0xff * (i / 10 % 2))
			for j := range msg {
				msg[j] = b
			}
		}
		for _, alg := range []int{256, 512} {
			want := gogostSum(alg, msg)
			if got := sum(alg, msg); !bytes.Equal(got, want) {
				t.Fatalf("%d, %d bytes %x: got %x, gogost %x", alg, len(msg), msg, got, want)
			}
		}
	}
}
