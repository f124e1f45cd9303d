// Package vectors reads the test-vector files of the gost packages: blocks of
// "field: value" lines separated by blank lines, "#" lines being comments.
// Only tests use it.
package vectors

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Vector is one block of a file.
type Vector struct {
	File   string
	Line   int
	fields map[string]string
	used   map[string]bool
}

// Load reads path, failing the test on a malformed file or an empty one.
func Load(tb testing.TB, path string) []*Vector {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var vs []*Vector
	var cur *Vector
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if strings.HasPrefix(s, "#") {
			continue
		}
		if strings.TrimSpace(s) == "" {
			cur = nil
			continue
		}
		k, v, ok := strings.Cut(s, ":")
		if !ok {
			tb.Fatalf("%s:%d: no field in %q", path, line, s)
		}
		if cur == nil {
			cur = &Vector{File: path, Line: line, fields: map[string]string{}, used: map[string]bool{}}
			vs = append(vs, cur)
		}
		k = strings.TrimSpace(k)
		if _, dup := cur.fields[k]; dup {
			tb.Fatalf("%s:%d: %s given twice", path, line, k)
		}
		cur.fields[k] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(vs) == 0 {
		tb.Fatalf("%s: no vectors", path)
	}
	return vs
}

func (v *Vector) String() string {
	v.used["name"] = true
	return fmt.Sprintf("%s:%d %s", v.File, v.Line, v.fields["name"])
}

// Has reports whether the vector has field k.
func (v *Vector) Has(k string) bool { _, ok := v.fields[k]; return ok }

// Str returns field k, failing the test when it is missing.
func (v *Vector) Str(tb testing.TB, k string) string {
	tb.Helper()
	s, ok := v.fields[k]
	if !ok {
		tb.Fatalf("%v: no field %s", v, k)
	}
	v.used[k] = true
	return s
}

// Hex returns field k decoded from hex (spaces allowed).
func (v *Vector) Hex(tb testing.TB, k string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(v.Str(tb, k), " ", ""))
	if err != nil {
		tb.Fatalf("%v: field %s: %v", v, k, err)
	}
	return b
}

// Int returns field k as a decimal integer.
func (v *Vector) Int(tb testing.TB, k string) int {
	tb.Helper()
	n, err := strconv.Atoi(v.Str(tb, k))
	if err != nil {
		tb.Fatalf("%v: field %s: %v", v, k, err)
	}
	return n
}

// CheckUsed fails the test when a field of the vector was never read: a
// misspelt or forgotten field is an error, not a silently passing vector.
func (v *Vector) CheckUsed(tb testing.TB) {
	tb.Helper()
	v.used["name"] = true
	for k := range v.fields {
		if !v.used[k] {
			tb.Errorf("%v: field %s not used by the test", v, k)
		}
	}
}
