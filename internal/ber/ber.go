// Package ber converts BER-encoded ASN.1 (indefinite lengths, constructed
// strings, non-minimal lengths), as CryptoPro, Windows and older PKCS#7 tools
// write CMS, into DER that encoding/asn1 and cryptobyte read.
//
// The conversion only re-encodes identifier octets and lengths in their
// minimal form and flattens constructed string types; it never reorders
// anything. Input that is already DER comes back
// byte-for-byte unchanged, so signed bytes (CMS signedAttrs) keep their
// received encoding. Depth and element counts are bounded: malformed or
// hostile input gives an error, never a panic or unbounded recursion.
package ber

import (
	"errors"
	"fmt"
)

// MaxDepth bounds the nesting of constructed values.
const MaxDepth = 64

// ErrMalformed is wrapped by every conversion error.
var ErrMalformed = errors.New("ber: malformed encoding")

// ToDER returns the DER form of one BER value that must span all of in.
func ToDER(in []byte) ([]byte, error) {
	if isDER(in) {
		return in, nil
	}
	out := make([]byte, 0, len(in))
	v, rest, err := parse(in, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the value", ErrMalformed, len(rest))
	}
	return v.appendDER(out), nil
}

// node is a parsed value: its class, tag number and either primitive content
// or children.
type node struct {
	class       byte
	tag         int
	constructed bool
	content     []byte  // primitive, or flattened constructed string
	children    []*node // constructed (not flattened)
}

// stringTypes are the universal types a constructed encoding must flatten:
// BIT STRING, OCTET STRING and the character strings.
func isStringType(tagClass byte, tag int) bool {
	if tagClass != 0 {
		return false
	}
	switch tag {
	case 3, 4, 12, 18, 19, 20, 21, 22, 25, 26, 27, 28, 30:
		return true
	}
	return false
}

// maxTag is the largest tag number accepted: encoding/asn1 reads no larger.
const maxTag = 1<<31 - 1

// parseIdent reads the identifier octets. minimal reports whether they are
// in the one form X.690 allows (tags 0…30 in the first octet; a high tag
// number without leading 0x80 octets); other forms are read, and appendIdent
// writes them minimally.
func parseIdent(in []byte) (class byte, constructed bool, tag int, minimal bool, rest []byte, err error) {
	if len(in) == 0 {
		return 0, false, 0, false, nil, fmt.Errorf("%w: truncated tag", ErrMalformed)
	}
	class = in[0] >> 6
	constructed = in[0]&0x20 != 0
	tag = int(in[0] & 0x1f)
	minimal = true
	n := 1
	if tag == 0x1f {
		tag = 0
		for {
			if n >= len(in) || n > 5 {
				return 0, false, 0, false, nil, fmt.Errorf("%w: bad high tag number", ErrMalformed)
			}
			b := in[n]
			n++
			if tag > maxTag>>7 {
				return 0, false, 0, false, nil, fmt.Errorf("%w: tag number too large", ErrMalformed)
			}
			tag = tag<<7 | int(b&0x7f)
			if b&0x80 == 0 {
				break
			}
		}
		minimal = tag >= 0x1f && in[1] != 0x80
	}
	return class, constructed, tag, minimal, in[n:], nil
}

// appendIdent writes the identifier octets in their minimal form.
func appendIdent(out []byte, class byte, constructed bool, tag int) []byte {
	b := class << 6
	if constructed {
		b |= 0x20
	}
	if tag < 0x1f {
		return append(out, b|byte(tag))
	}
	out = append(out, b|0x1f)
	var buf [5]byte
	i := len(buf)
	for v := tag; ; v >>= 7 {
		i--
		buf[i] = byte(v&0x7f) | 0x80
		if v < 0x80 {
			break
		}
	}
	buf[len(buf)-1] &^= 0x80
	return append(out, buf[i:]...)
}

// parseLength returns the length, or -1 for the indefinite form.
func parseLength(in []byte) (length int, rest []byte, err error) {
	if len(in) == 0 {
		return 0, nil, fmt.Errorf("%w: truncated length", ErrMalformed)
	}
	b := in[0]
	if b < 0x80 {
		return int(b), in[1:], nil
	}
	if b == 0x80 {
		return -1, in[1:], nil
	}
	n := int(b & 0x7f)
	if n > 4 || len(in) < 1+n {
		return 0, nil, fmt.Errorf("%w: bad length", ErrMalformed)
	}
	length = 0
	for _, c := range in[1 : 1+n] {
		length = length<<8 | int(c)
	}
	if length < 0 {
		return 0, nil, fmt.Errorf("%w: bad length", ErrMalformed)
	}
	return length, in[1+n:], nil
}

func parse(in []byte, depth int) (*node, []byte, error) {
	if depth > MaxDepth {
		return nil, nil, fmt.Errorf("%w: nested deeper than %d", ErrMalformed, MaxDepth)
	}
	class, constructed, tag, _, rest, err := parseIdent(in)
	if err != nil {
		return nil, nil, err
	}
	length, rest, err := parseLength(rest)
	if err != nil {
		return nil, nil, err
	}
	n := &node{class: class, tag: tag, constructed: constructed}
	if !constructed {
		if length < 0 || length > len(rest) {
			return nil, nil, fmt.Errorf("%w: primitive length beyond the input", ErrMalformed)
		}
		n.content = rest[:length]
		return n, rest[length:], nil
	}
	var body []byte
	if length >= 0 {
		if length > len(rest) {
			return nil, nil, fmt.Errorf("%w: length beyond the input", ErrMalformed)
		}
		body, rest = rest[:length], rest[length:]
	} else {
		body = rest
	}
	for {
		if length < 0 {
			if len(body) >= 2 && body[0] == 0 && body[1] == 0 {
				rest = body[2:]
				break
			}
			if len(body) == 0 {
				return nil, nil, fmt.Errorf("%w: missing end-of-contents", ErrMalformed)
			}
		} else if len(body) == 0 {
			break
		}
		child, r, err := parse(body, depth+1)
		if err != nil {
			return nil, nil, err
		}
		body = r
		n.children = append(n.children, child)
	}
	if isStringType(class, tag) {
		// Flatten: the content is the concatenation of the segments, which
		// must be primitive values of the same type (after their own flattening).
		var flat []byte
		unused := byte(0)
		for i, c := range n.children {
			if c.class != class || c.tag != tag {
				return nil, nil, fmt.Errorf("%w: segment of another type in a constructed string", ErrMalformed)
			}
			seg := c.content
			if tag == 3 { // BIT STRING: each segment starts with its unused-bit count
				if len(seg) == 0 || (seg[0] != 0 && i != len(n.children)-1) {
					return nil, nil, fmt.Errorf("%w: bad BIT STRING segment", ErrMalformed)
				}
				unused, seg = seg[0], seg[1:]
			}
			flat = append(flat, seg...)
		}
		if tag == 3 {
			flat = append([]byte{unused}, flat...)
		}
		n.constructed = false
		n.content = flat
		n.children = nil
	}
	return n, rest, nil
}

func (n *node) appendDER(out []byte) []byte {
	out = appendIdent(out, n.class, n.constructed, n.tag)
	if !n.constructed {
		out = appendLength(out, len(n.content))
		return append(out, n.content...)
	}
	var body []byte
	for _, c := range n.children {
		body = c.appendDER(body)
	}
	out = appendLength(out, len(body))
	return append(out, body...)
}

func appendLength(out []byte, n int) []byte {
	if n < 0x80 {
		return append(out, byte(n))
	}
	var buf [8]byte
	i := len(buf)
	for v := n; v > 0; v >>= 8 {
		i--
		buf[i] = byte(v)
	}
	out = append(out, 0x80|byte(len(buf)-i))
	return append(out, buf[i:]...)
}

// isDER reports whether in is one value with definite, minimal lengths and no
// constructed strings all the way down: the common case, returned unchanged.
func isDER(in []byte) bool {
	rest, ok := checkDER(in, 0)
	return ok && len(rest) == 0
}

func checkDER(in []byte, depth int) ([]byte, bool) {
	if depth > MaxDepth {
		return nil, false
	}
	class, constructed, tag, minimal, rest, err := parseIdent(in)
	if err != nil || !minimal || (constructed && isStringType(class, tag)) {
		return nil, false
	}
	if len(rest) == 0 {
		return nil, false
	}
	length, body, err := parseLength(rest)
	if err != nil || length < 0 || length > len(body) {
		return nil, false
	}
	if rest[0] >= 0x80 && (length < 0x80 || rest[1] == 0) { // non-minimal length
		return nil, false
	}
	content, after := body[:length], body[length:]
	if constructed {
		for len(content) > 0 {
			var ok bool
			content, ok = checkDER(content, depth+1)
			if !ok {
				return nil, false
			}
		}
	}
	return after, true
}
