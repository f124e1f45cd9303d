package pfx

import (
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/asn1"
	"unicode/utf16"
)

// The PKCS#12 pieces of RFC 7292 itself that CryptoPro CSP puts around its
// GOST key bag: the HMAC-SHA-1 MAC keyed by the Appendix B.2 derivation, and
// the certificate safe under pbeWithSHAAnd3-KeyTripleDES-CBC (same
// derivation, section C). Only the certificate safe may use the latter: a key
// bag under it is not GOST (see precheck), so RSA/ECDSA files still go to
// their own reader untouched.

var (
	oidSHA1        = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidPBESHA13DES = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
)

const rfc7292MACSize = sha1.Size

// Derivation purposes (RFC 7292 B.3).
const (
	idKey = 1
	idIV  = 2
	idMAC = 3
)

// bmpPassword is the password as RFC 7292 B.1 wants it: the UTF-8 password
// as big-endian UTF-16 with a terminating 00 00 (the empty password is 00 00
// alone).
func bmpPassword(password []byte) []byte {
	u := utf16.Encode([]rune(string(password)))
	b := make([]byte, 2*len(u)+2)
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c>>8), byte(c)
	}
	return b
}

// bmpForms are the BMP forms of a password a MAC is tried under: the
// RFC's, and for the empty password also the zero-length one (which
// OpenSSL writes for "no password", and tries when 00 00 fails).
func bmpForms(password []byte) [][]byte {
	if len(password) == 0 {
		return [][]byte{{0, 0}, {}}
	}
	return [][]byte{bmpPassword(password)}
}

// pkcs12KDF is RFC 7292 Appendix B.2 with SHA-1 (u = 20, v = 64): n bytes
// for purpose id from the BMP password and the salt, iterations rounds.
func pkcs12KDF(id byte, bmp, salt []byte, iterations, n int) []byte {
	const u, v = sha1.Size, sha1.BlockSize
	fill := func(b []byte) []byte { // b repeated to a multiple of v bytes
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	D := make([]byte, v)
	for i := range D {
		D[i] = id
	}
	S, P := fill(salt), fill(bmp)
	I := append(S, P...)
	defer clear(I)
	defer clear(P)
	h := sha1.New()
	out := make([]byte, 0, n+u)
	A := make([]byte, 0, u)
	B := make([]byte, v)
	for len(out) < n {
		h.Reset()
		h.Write(D)
		h.Write(I)
		A = h.Sum(A[:0])
		for r := 1; r < iterations; r++ {
			h.Reset()
			h.Write(A)
			A = h.Sum(A[:0])
		}
		out = append(out, A...)
		if len(out) >= n {
			break
		}
		for i := range B {
			B[i] = A[i%u]
		}
		// Each v-byte block I_j of I becomes I_j + B + 1 mod 2^(8v).
		for j := 0; j < len(I); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				s := int(I[j+k]) + int(B[k]) + carry
				I[j+k] = byte(s)
				carry = s >> 8
			}
		}
	}
	clear(A)
	clear(B)
	return out[:n]
}

// checkSHA1MAC checks an RFC 7292 HMAC-SHA-1 MAC and returns the BMP form of
// the password that matched (see bmpForms).
func checkSHA1MAC(m *macData, authSafe, password []byte) ([]byte, error) {
	if m.Iterations < 1 || m.Iterations > MaxIterations || len(m.MacSalt) == 0 || len(m.MacSalt) > 64 {
		return nil, formatErr("MAC parameters: %d iterations, %d-byte salt", m.Iterations, len(m.MacSalt))
	}
	if len(m.Mac.Digest) != rfc7292MACSize {
		return nil, formatErr("a %d-byte HMAC-SHA-1", len(m.Mac.Digest))
	}
	for _, bmp := range bmpForms(password) {
		key := pkcs12KDF(idMAC, bmp, m.MacSalt, m.Iterations, rfc7292MACSize)
		h := hmac.New(sha1.New, key)
		clear(key)
		h.Write(authSafe)
		if hmac.Equal(h.Sum(nil), m.Mac.Digest) {
			return bmp, nil
		}
	}
	return nil, ErrWrongPassword
}

// pbeParams are pkcs-12PbeParams (RFC 7292 C).
type pbeParams struct {
	Salt       []byte
	Iterations int
}

// decrypt3DES undoes pbeWithSHAAnd3-KeyTripleDES-CBC under the BMP password:
// key and IV from pkcs12KDF (ids 1 and 2), DES-EDE3-CBC, PKCS#5 padding.
func decrypt3DES(params, data, bmp []byte) ([]byte, error) {
	var p pbeParams
	if err := unmarshal(params, &p, "pbeWithSHAAnd3-KeyTripleDES-CBC parameters"); err != nil {
		return nil, err
	}
	if len(p.Salt) == 0 || len(p.Salt) > 64 || p.Iterations < 1 || p.Iterations > MaxIterations {
		return nil, formatErr("pbeWithSHAAnd3-KeyTripleDES-CBC parameters: %d-byte salt, %d iterations", len(p.Salt), p.Iterations)
	}
	if len(data) == 0 || len(data)%des.BlockSize != 0 {
		return nil, formatErr("%d bytes under 3DES-CBC", len(data))
	}
	key := pkcs12KDF(idKey, bmp, p.Salt, p.Iterations, 24)
	defer clear(key)
	iv := pkcs12KDF(idIV, bmp, p.Salt, p.Iterations, des.BlockSize)
	c, err := des.NewTripleDESCipher(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(out, data)
	return unpad(out, des.BlockSize)
}

// unpad removes PKCS#5 padding.
func unpad(b []byte, bs int) ([]byte, error) {
	n := int(b[len(b)-1])
	if n < 1 || n > bs {
		return nil, formatErr("bad padding after 3DES-CBC: the file is damaged, or this part was encrypted under another password")
	}
	pad := make([]byte, n)
	for i := range pad {
		pad[i] = byte(n)
	}
	if subtle.ConstantTimeCompare(b[len(b)-n:], pad) != 1 {
		return nil, formatErr("bad padding after 3DES-CBC: the file is damaged, or this part was encrypted under another password")
	}
	return b[:len(b)-n], nil
}
