package ber

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"testing"
)

func TestToDER(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"DER unchanged", "300602010102010a", "300602010102010a"},
		{"indefinite SEQUENCE", "30800201010000", "3003020101"},
		{"nested indefinite", "3080308002010100000000", "30053003020101"},
		{"constructed OCTET STRING", "2480040268690401210000", "0403686921"},
		{"constructed OCTET STRING, definite", "240704026869040121", "0403686921"},
		{"non-minimal length", "0481026869", "04026869"},
		{"long form for short length", "048102" + "6869", "04026869"},
		{"explicit tag indefinite", "a080040161" + "0000", "a003040161"},
		{"constructed BIT STRING", "238003020001030206c0" + "0000", "030306" + "01c0"},
		{"empty constructed OCTET STRING", "24800000", "0400"},
	}
	for _, tc := range cases {
		in, _ := hex.DecodeString(tc.in)
		want, _ := hex.DecodeString(tc.want)
		got, err := ToDER(in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got %x, want %x", tc.name, got, want)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, in := range []string{
		"", "30", "3080", "308002010100", "0405", "24800402686900", "3003020101ff",
		"2480300000000000", // SEQUENCE inside a constructed OCTET STRING
		"1f", "0485ffffffffff",
	} {
		b, _ := hex.DecodeString(in)
		if _, err := ToDER(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", in, err)
		}
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, MaxDepth+2)
	if _, err := ToDER(deep); err == nil {
		t.Error("deep nesting accepted")
	}
}

// FuzzToDER asserts: no panic; the output is DER that encoding/asn1 can walk
// and that converts to itself.
func FuzzToDER(f *testing.F) {
	for _, s := range []string{"30800201010000", "2480040268690401210000", "300602010102010a"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := ToDER(in)
		if err != nil {
			return
		}
		again, err := ToDER(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("DER output is not a fixed point: %x → %x (%v)", out, again, err)
		}
		var v asn1.RawValue
		if rest, err := asn1.Unmarshal(out, &v); err == nil && len(rest) != 0 {
			t.Fatalf("trailing data after conversion")
		}
	})
}
