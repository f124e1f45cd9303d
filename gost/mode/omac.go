package mode

import (
	"crypto/cipher"
	"fmt"
	"hash"
)

// omac is OMAC (CMAC), optionally with ACPKM re-keying.
type omac struct {
	b      cipher.Block
	bs     int
	k1, k2 []byte // the subkeys K1, K2 (plain OMAC)
	state  []byte
	buf    []byte // the last block (it may be full), kept until more data comes
	nbuf   int

	// OMAC-ACPKM
	master  cipher.Stream // ACPKM-Master: CTR-ACPKM over zeros
	newB    NewBlock
	section int // bytes per section
	done    int // bytes MACed under the current key
}

// rb returns the constant of the subkey doubling: B_64 = 0x1b, B_128 = 0x87.
func rb(bs int) byte {
	if bs == 8 {
		return 0x1b
	}
	return 0x87
}

// double is the subkey step of GOST R 34.13-2015 5.6: R << 1, and ⊕ B_n
// when the top bit was set (computed without a branch on the secret bit).
func double(in []byte) []byte {
	out := make([]byte, len(in))
	var carry byte
	for i := len(in) - 1; i >= 0; i-- {
		out[i] = in[i]<<1 | carry
		carry = in[i] >> 7
	}
	out[len(out)-1] ^= rb(len(in)) & -carry
	return out
}

// NewOMAC returns OMAC, the MAC of GOST R 34.13-2015 section 5.6 (OMAC1,
// the construction of NIST CMAC), keyed by b. Sum appends a whole block;
// a shorter MAC is its first bytes (Magma's examples and OpenSSL's magma-mac
// take 4 of 8, Kuznyechik's take 8 of 16). This is OpenSSL's magma-mac and
// kuznyechik-mac.
func NewOMAC(b cipher.Block) hash.Hash {
	bs := b.BlockSize()
	m := &omac{b: b, bs: bs, state: make([]byte, bs), buf: make([]byte, bs)}
	r := make([]byte, bs)
	b.Encrypt(r, r)
	m.k1 = double(r)
	m.k2 = double(m.k1)
	return m
}

// NewOMACACPKM returns OMAC-ACPKM (R 1323565.1.017-2018 section 4.2, RFC
// 8645 section 6.4.2): the section keys and their subkeys K^i || K1^i come
// from ACPKM-Master, CTR-ACPKM under the master key with sections of
// masterSection bytes and the IV 1…1 (half a block of 0xff) over zeros;
// every section of sectionSize bytes of message is MACed under the next key,
// the chaining value running on. The parameters of the standard's examples
// and of OpenSSL's *-ctr-acpkm-omac are sectionSize 16 (Magma) or 32
// (Kuznyechik) and masterSection 80 (Magma) or 96 (Kuznyechik) bytes in
// the examples; CMS uses larger ones.
func NewOMACACPKM(newBlock NewBlock, key []byte, sectionSize, masterSection int) (hash.Hash, error) {
	b, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := b.BlockSize()
	if sectionSize <= 0 || sectionSize%bs != 0 || masterSection <= 0 || masterSection%bs != 0 {
		return nil, errSection
	}
	iv := make([]byte, bs/2)
	for i := range iv {
		iv[i] = 0xff
	}
	master, err := NewCTRACPKM(newBlock, key, iv, masterSection)
	if err != nil {
		return nil, err
	}
	m := &omac{bs: bs, state: make([]byte, bs), buf: make([]byte, bs), master: master, newB: newBlock, section: sectionSize}
	if err := m.rekey(); err != nil {
		return nil, err
	}
	return m, nil
}

// rekey takes the next K^i || K1^i from ACPKM-Master.
func (m *omac) rekey() error {
	km := make([]byte, KeySize+m.bs)
	m.master.XORKeyStream(km, km)
	b, err := m.newB(km[:KeySize])
	if err != nil {
		return fmt.Errorf("mode: OMAC-ACPKM: %w", err)
	}
	m.b, m.k1 = b, km[KeySize:]
	m.k2 = double(m.k1)
	m.done = 0
	return nil
}

func (m *omac) Size() int      { return m.bs }
func (m *omac) BlockSize() int { return m.bs }

func (m *omac) Reset() {
	if m.master != nil {
		panic("mode: OMAC-ACPKM cannot be Reset (its key stream has moved on); make a new one")
	}
	clear(m.state)
	m.nbuf = 0
}

func (m *omac) block(p []byte) {
	if m.master != nil && m.done == m.section {
		if err := m.rekey(); err != nil {
			panic(err)
		}
	}
	for i := range m.state {
		m.state[i] ^= p[i]
	}
	m.b.Encrypt(m.state, m.state)
	m.done += m.bs
}

func (m *omac) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if m.nbuf == m.bs {
			m.block(m.buf)
			m.nbuf = 0
		}
		c := copy(m.buf[m.nbuf:], p)
		m.nbuf += c
		p = p[c:]
	}
	return n, nil
}

// Sum appends the MAC; the state does not change.
func (m *omac) Sum(in []byte) []byte {
	if m.master != nil && m.done == m.section {
		// The last block starts a new section: take its key from a copy
		// of ACPKM-Master, so that more data may still be written.
		c := *m
		c.state = append([]byte(nil), m.state...)
		c.master = m.master.(*ctr).clone()
		if err := c.rekey(); err != nil {
			panic(err)
		}
		m = &c
	}
	last := make([]byte, m.bs)
	copy(last, m.buf[:m.nbuf])
	k := m.k1
	if m.nbuf < m.bs {
		last[m.nbuf] = 0x80
		k = m.k2
	}
	for i := range last {
		last[i] ^= m.state[i] ^ k[i]
	}
	m.b.Encrypt(last, last)
	return append(in, last...)
}
