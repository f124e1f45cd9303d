package agent

import (
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// secret is a PIN as it travels through the agent: decoded from JSON
// straight into bytes the agent owns, never into a Go string (strings cannot
// be wiped), and wiped with wipe once used.
type secret []byte

var errSecret = errors.New("agent: a PIN must be a JSON string")

// UnmarshalJSON decodes a JSON string (with its escapes) into fresh bytes;
// null leaves the secret nil. The caller wipes the input buffer.
func (s *secret) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*s = nil
		return nil
	}
	out, ok := unquoteJSON(data)
	if !ok {
		return errSecret
	}
	*s = out
	return nil
}

// MarshalJSON never writes a PIN out.
func (s secret) MarshalJSON() ([]byte, error) { return []byte(`"***"`), nil }

func (s *secret) wipe() {
	if s != nil {
		clear(*s)
		*s = nil
	}
}

// unquoteJSON decodes the JSON string literal q (quotes included) into a
// new slice, or reports false when q is not one.
func unquoteJSON(q []byte) ([]byte, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return nil, false
	}
	q = q[1 : len(q)-1]
	out := make([]byte, 0, len(q))
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '"' || c < 0x20:
			clear(out)
			return nil, false
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(q) {
			clear(out)
			return nil, false
		}
		e := q[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := hex4(q[i:])
			if n == 0 {
				clear(out)
				return nil, false
			}
			i += n
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(q) >= i+6 && q[i] == '\\' && q[i+1] == 'u' {
					if v, m := hex4(q[i+2:]); m != 0 {
						r2 = v
					}
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			clear(out)
			return nil, false
		}
	}
	if !utf8.Valid(out) {
		clear(out)
		return nil, false
	}
	return out, true
}

func hex4(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, 0
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, 0
		}
	}
	return r, 4
}
