package streebog

import "encoding/binary"

//go:generate go run gen.go

// noC stands for the iteration constant after C_12, which does not exist: the
// last key-schedule step computes K_13 only, and its other output is unused.
var noC [8]uint64

// compress sets h to g_N(h, m) = E(LPS(h ⊕ N), m) ⊕ h ⊕ m, the compression
// function of RFC 6986, Section 7, where
//
//	E(K, m) = X[K_13] LPSX[K_12] ... LPSX[K_1](m),  K_1 = K,  K_(i+1) = LPS(K_i ⊕ C_i).
//
// The two chains, the data one and the key schedule, are interleaved, and
// each LPS step stores its result already XORed with the value the next step
// applies to it, so that step reads its bytes directly.
func compress(h, n, m *[8]uint64) {
	t := &lpsTab
	var k [8]uint64             // the current round key K_i as words
	var xa, xb, ka, kb [64]byte // data (s ⊕ K_i) and key (K_i ⊕ C_i) inputs, double-buffered
	for i := range 8 {
		binary.LittleEndian.PutUint64(xa[8*i:], h[i]^n[i])
	}
	lpsKey(t, &xa, &iterC[0], &k, &ka) // K_1 = LPS(h ⊕ N), and K_1 ⊕ C_1
	for i := range 8 {
		binary.LittleEndian.PutUint64(xa[8*i:], m[i]^k[i])
	}
	for i := 0; i < 10; i += 2 {
		lpsKey(t, &ka, &iterC[i+1], &k, &kb) // K_(i+2)
		lpsData(t, &xa, &k, &xb)
		lpsKey(t, &kb, &iterC[i+2], &k, &ka) // K_(i+3)
		lpsData(t, &xb, &k, &xa)
	}
	lpsKey(t, &ka, &iterC[11], &k, &kb) // K_12
	lpsData(t, &xa, &k, &xb)
	lpsKey(t, &kb, &noC, &k, &ka) // K_13
	lpsData(t, &xb, &k, &xa)      // E(K, m)
	for i := range 8 {
		h[i] ^= binary.LittleEndian.Uint64(xa[8*i:]) ^ m[i]
	}
}
