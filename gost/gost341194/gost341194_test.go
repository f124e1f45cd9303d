package gost341194

import (
	"bufio"
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

type vector struct {
	line   int
	name   string
	params *Params
	msg    []byte
	digest []byte
}

// readVectors parses testdata/vectors.txt (its format is described at its top).
func readVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	var cur *vector
	seen := map[string]bool{}
	flush := func() {
		if cur == nil {
			return
		}
		for _, k := range []string{"params", "msg", "digest"} {
			if !seen[k] {
				t.Fatalf("vectors.txt:%d: vector without %s", cur.line, k)
			}
		}
		vs = append(vs, *cur)
		cur, seen = nil, map[string]bool{}
	}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if strings.HasPrefix(s, "#") {
			continue
		}
		if strings.TrimSpace(s) == "" {
			flush()
			continue
		}
		key, val, ok := strings.Cut(s, ":")
		if !ok {
			t.Fatalf("vectors.txt:%d: no field in %q", line, s)
		}
		val = strings.TrimSpace(val)
		if cur == nil {
			cur = &vector{line: line}
		}
		field := key
		if strings.HasPrefix(key, "msg-") {
			field = "msg"
		}
		if seen[field] {
			t.Fatalf("vectors.txt:%d: %s given twice", line, field)
		}
		seen[field] = true
		switch key {
		case "name":
			cur.name = val
		case "params":
			switch val {
			case "test":
				cur.params = Test
			case "cryptopro":
				cur.params = CryptoPro
			default:
				t.Fatalf("vectors.txt:%d: unknown params %q", line, val)
			}
		case "msg-hex":
			cur.msg, err = hex.DecodeString(val)
		case "msg-repeat":
			unit, count, ok := strings.Cut(val, " ")
			if !ok {
				t.Fatalf("vectors.txt:%d: msg-repeat wants HEX COUNT", line)
			}
			u, err1 := hex.DecodeString(unit)
			n, err2 := strconv.Atoi(count)
			if err1 != nil || err2 != nil {
				t.Fatalf("vectors.txt:%d: bad msg-repeat %q", line, val)
			}
			cur.msg = bytes.Repeat(u, n)
		case "digest":
			cur.digest, err = hex.DecodeString(val)
			if err == nil && len(cur.digest) != Size {
				err = fmt.Errorf("digest of %d bytes", len(cur.digest))
			}
		default:
			t.Fatalf("vectors.txt:%d: unknown field %q", line, key)
		}
		if err != nil {
			t.Fatalf("vectors.txt:%d: %v", line, err)
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestVectors(t *testing.T) {
	vs := readVectors(t)
	var nTest, nCP, nRFC int
	r := rand.New(rand.NewPCG(1, 2))
	for _, v := range vs {
		switch v.params {
		case Test:
			nTest++
		case CryptoPro:
			nCP++
		}
		if strings.HasPrefix(v.name, "RFC 5831") && v.params == Test {
			nRFC++
		}
		if got := Sum(v.params, v.msg); !bytes.Equal(got[:], v.digest) {
			t.Errorf("vectors.txt:%d %s (%s): Sum = %x, want %x", v.line, v.name, v.params.Name, got, v.digest)
		}
		// The same through Write in random pieces.
		h := New(v.params)
		for m := v.msg; len(m) > 0; {
			n := min(len(m), r.IntN(70))
			h.Write(m[:n])
			m = m[n:]
		}
		if got := h.Sum(nil); !bytes.Equal(got, v.digest) {
			t.Errorf("vectors.txt:%d %s (%s): streamed = %x, want %x", v.line, v.name, v.params.Name, got, v.digest)
		}
	}
	if nRFC != 2 || nTest < 8 || nCP < 8 {
		t.Fatalf("vectors.txt: %d RFC 5831 vectors, %d test-set, %d CryptoPro-set vectors; the file lost some", nRFC, nTest, nCP)
	}
}

// TestSumKeepsState checks that Sum does not change the running state, that
// Reset starts afresh, and that the hash reports its sizes.
func TestSumKeepsState(t *testing.T) {
	msg := bytes.Repeat([]byte("0123456789"), 20)
	h := New(CryptoPro)
	if h.Size() != 32 || h.BlockSize() != 32 {
		t.Fatalf("Size %d BlockSize %d", h.Size(), h.BlockSize())
	}
	h.Write(msg[:77])
	mid := h.Sum(nil)
	if want := Sum(CryptoPro, msg[:77]); !bytes.Equal(mid, want[:]) {
		t.Fatalf("Sum in the middle = %x, want %x", mid, want)
	}
	h.Write(msg[77:])
	if want := Sum(CryptoPro, msg); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("Sum changed the state")
	}
	h.Reset()
	h.Write(msg[:77])
	if !bytes.Equal(h.Sum([]byte{1, 2}), append([]byte{1, 2}, mid...)) {
		t.Fatal("Reset or Sum's append broken")
	}
	if Sum(Test, msg) == Sum(CryptoPro, msg) {
		t.Fatal("the two parameter sets give one digest")
	}
}

func TestParamsByOID(t *testing.T) {
	for _, c := range []struct {
		oid  asn1.ObjectIdentifier
		want *Params
	}{{asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 1}, CryptoPro}, {asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 0}, Test}} {
		if p, err := ParamsByOID(c.oid); err != nil || p != c.want {
			t.Errorf("ParamsByOID(%v) = %v, %v", c.oid, p, err)
		}
	}
	if _, err := ParamsByOID(asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 2}); err == nil {
		t.Error("an unknown set was accepted")
	}
}
