// Package streebog implements the Streebog hash function, GOST R 34.11-2012
// (RFC 6986), with 256-bit and 512-bit outputs.
//
// Byte order: messages and digests are byte strings in the order used by
// OpenSSL's gost engine (`openssl dgst -md_gost12_256 -binary`) and the other
// common implementations. The standard treats a 512-bit block as a number
// whose least significant byte is the first byte of the block, and the digest
// likewise; RFC 6986 writes its example messages and hashes as numbers, most
// significant byte first, so they read byte-reversed relative to this
// package. Its message M1, printed 0x3231...3130, is the string
// "012345678901234567890123456789012345678901234567890123456789012", and its
// Streebog-256 hash of M1, printed 00557be5...1e159d, is the digest
// 9d151eef...e57b5500 here.
//
// The hashes returned by New256 and New512 implement
// encoding.BinaryMarshaler, encoding.BinaryAppender,
// encoding.BinaryUnmarshaler and hash.Cloner, to save, restore and copy the
// state of a computation.
package streebog

import (
	"encoding/binary"
	"errors"
	"hash"
	"math/bits"
)

const (
	// Size256 is the size in bytes of a Streebog-256 digest.
	Size256 = 32
	// Size512 is the size in bytes of a Streebog-512 digest.
	Size512 = 64
	// BlockSize is the block size of Streebog in bytes.
	BlockSize = 64
)

// digest is the state of a Streebog computation.
type digest struct {
	h     [8]uint64 // chaining value
	n     [8]uint64 // number of message bits processed, mod 2^512
	sigma [8]uint64 // sum of the message blocks processed, mod 2^512
	buf   [BlockSize]byte
	nx    int // bytes in buf
	size  int // Size256 or Size512
}

// New256 returns a new hash.Hash computing the Streebog-256 digest.
func New256() hash.Hash {
	d := &digest{size: Size256}
	d.Reset()
	return d
}

// New512 returns a new hash.Hash computing the Streebog-512 digest.
func New512() hash.Hash {
	d := &digest{size: Size512}
	d.Reset()
	return d
}

// Sum256 returns the Streebog-256 digest of data.
func Sum256(data []byte) [Size256]byte {
	d := digest{size: Size256}
	d.Reset()
	d.Write(data)
	h := d.checkSum()
	return [Size256]byte(h[Size512-Size256:])
}

// Sum512 returns the Streebog-512 digest of data.
func Sum512(data []byte) [Size512]byte {
	d := digest{size: Size512}
	d.Reset()
	d.Write(data)
	return d.checkSum()
}

// Reset restores the initial state: IV is 0^512 for Streebog-512 and
// (00000001)^64 for Streebog-256.
func (d *digest) Reset() {
	iv := uint64(0)
	if d.size == Size256 {
		iv = 0x0101010101010101
	}
	for i := range d.h {
		d.h[i] = iv
	}
	d.n = [8]uint64{}
	d.sigma = [8]uint64{}
	d.nx = 0
}

func (d *digest) Size() int { return d.size }

func (d *digest) BlockSize() int { return BlockSize }

func (d *digest) Write(p []byte) (int, error) {
	n := len(p)
	if d.nx > 0 {
		c := copy(d.buf[d.nx:], p)
		d.nx += c
		p = p[c:]
		if d.nx < BlockSize {
			return n, nil
		}
		d.block(&d.buf)
		d.nx = 0
	}
	for len(p) >= BlockSize {
		d.block((*[BlockSize]byte)(p))
		p = p[BlockSize:]
	}
	d.nx = copy(d.buf[:], p)
	return n, nil
}

// Sum appends the digest to b. It does not change the state.
func (d *digest) Sum(b []byte) []byte {
	d0 := *d
	h := d0.checkSum()
	return append(b, h[Size512-d.size:]...)
}

// block processes one full message block (stage 2 of RFC 6986, Section 8.2).
func (d *digest) block(p *[BlockSize]byte) {
	var m [8]uint64
	for i := range m {
		m[i] = binary.LittleEndian.Uint64(p[8*i:])
	}
	compress(&d.h, &d.n, &m)
	d.addN(BlockSize * 8)
	d.addSigma(&m)
}

// addN adds x to the bit counter N, mod 2^512.
func (d *digest) addN(x uint64) {
	var c uint64
	d.n[0], c = bits.Add64(d.n[0], x, 0)
	for i := 1; c != 0 && i < len(d.n); i++ {
		d.n[i], c = bits.Add64(d.n[i], 0, c)
	}
}

// addSigma adds m to the checksum Σ, mod 2^512.
func (d *digest) addSigma(m *[8]uint64) {
	var c uint64
	d.sigma[0], c = bits.Add64(d.sigma[0], m[0], 0)
	d.sigma[1], c = bits.Add64(d.sigma[1], m[1], c)
	d.sigma[2], c = bits.Add64(d.sigma[2], m[2], c)
	d.sigma[3], c = bits.Add64(d.sigma[3], m[3], c)
	d.sigma[4], c = bits.Add64(d.sigma[4], m[4], c)
	d.sigma[5], c = bits.Add64(d.sigma[5], m[5], c)
	d.sigma[6], c = bits.Add64(d.sigma[6], m[6], c)
	d.sigma[7], _ = bits.Add64(d.sigma[7], m[7], c)
}

// checkSum pads and processes the buffered tail (stage 3 of RFC 6986,
// Section 8.3) and returns the 512-bit result; Streebog-256 is its second
// half. It changes d.
func (d *digest) checkSum() [Size512]byte {
	var p [BlockSize]byte
	copy(p[:], d.buf[:d.nx])
	p[d.nx] = 1
	var m [8]uint64
	for i := range m {
		m[i] = binary.LittleEndian.Uint64(p[8*i:])
	}
	compress(&d.h, &d.n, &m)
	d.addN(uint64(d.nx) * 8)
	d.addSigma(&m)
	var zero [8]uint64
	compress(&d.h, &zero, &d.n)
	compress(&d.h, &zero, &d.sigma)

	var out [Size512]byte
	for i, w := range d.h {
		binary.LittleEndian.PutUint64(out[8*i:], w)
	}
	return out
}

// The marshaled state is
//
//	magic (8 bytes) || h || N || Σ (each 8 little-endian words) || tail length (1 byte) || tail (64 bytes, zero-padded)
//
// where the magic names the digest size, so a Streebog-256 state cannot be
// loaded into a Streebog-512 hash.
const (
	magic256      = "stbg256\x01"
	magic512      = "stbg512\x01"
	marshaledSize = len(magic256) + 3*64 + 1 + BlockSize
)

func (d *digest) magic() string {
	if d.size == Size256 {
		return magic256
	}
	return magic512
}

func (d *digest) MarshalBinary() ([]byte, error) {
	return d.AppendBinary(make([]byte, 0, marshaledSize))
}

func (d *digest) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, d.magic()...)
	for _, v := range [...]*[8]uint64{&d.h, &d.n, &d.sigma} {
		for _, w := range v {
			b = binary.LittleEndian.AppendUint64(b, w)
		}
	}
	b = append(b, byte(d.nx))
	b = append(b, d.buf[:d.nx]...)
	b = append(b, make([]byte, BlockSize-d.nx)...)
	return b, nil
}

func (d *digest) UnmarshalBinary(b []byte) error {
	if len(b) != marshaledSize {
		return errors.New("streebog: invalid hash state size")
	}
	if string(b[:len(magic256)]) != d.magic() {
		return errors.New("streebog: invalid hash state identifier")
	}
	b = b[len(magic256):]
	var h, n, sigma [8]uint64
	for _, v := range [...]*[8]uint64{&h, &n, &sigma} {
		for i := range v {
			v[i] = binary.LittleEndian.Uint64(b)
			b = b[8:]
		}
	}
	nx := int(b[0])
	tail := b[1:]
	if nx >= BlockSize {
		return errors.New("streebog: invalid hash state: bad tail length")
	}
	for _, c := range tail[nx:] {
		if c != 0 {
			return errors.New("streebog: invalid hash state: bad tail padding")
		}
	}
	// N counts whole blocks until the hash is finished.
	if n[0]%(BlockSize*8) != 0 {
		return errors.New("streebog: invalid hash state: bad length counter")
	}
	d.h, d.n, d.sigma = h, n, sigma
	d.nx = copy(d.buf[:], tail[:nx])
	return nil
}

// Clone returns a copy of the hash with the same state.
func (d *digest) Clone() (hash.Cloner, error) {
	r := *d
	return &r, nil
}
