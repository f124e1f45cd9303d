package ber

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
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
		// Identifier octets: X.690 8.1.2 allows one form; DER output has it.
		{"low tag in the high form", "ff0100", "e100"},
		{"tag 30 in the high form", "1f1e00", "1e00"},
		{"tag 31, minimal", "1f1f00", "1f1f00"},
		{"tag 31 with a leading 0x80 octet", "1f801f00", "1f1f00"},
		{"high tag with a leading 0x80 octet", "9f80210100", "9f210100"},
		{"tag 128, minimal", "bf810000", "bf810000"},
		{"tag 2^31-1, minimal", "1f87ffffff7f00", "1f87ffffff7f00"},
		{"non-minimal tag nested: length recomputed", "3003ff0100", "3002e100"},
		{"non-minimal tag under an indefinite length", "3080ff01000000", "3002e100"},
		{"OCTET STRING in the high form, segments too", "3f04800401611f0401620000", "04026162"},
		{"high-form segment in a constructed OCTET STRING", "24801f040161" + "0000", "040161"},
		{"tag 128 re-encoded", "bf8100800000", "bf810000"},
		{"tag 2^31-1 re-encoded", "3f87ffffff7f800000", "3f87ffffff7f00"},
		// Lengths.
		{"zero length in the long form", "308100", "3000"},
		{"four length octets", "048400000002" + "6869", "04026869"},
		{"length 128 re-encoded", "2480" + "048180" + strings.Repeat("61", 128) + "0000", "048180" + strings.Repeat("61", 128)},
		{"length 128, minimal", "048180" + strings.Repeat("61", 128), "048180" + strings.Repeat("61", 128)},
		{"length 128 with a leading zero octet", "04820080" + strings.Repeat("61", 128), "048180" + strings.Repeat("61", 128)},
		{"length 300 re-encoded", "3080" + "0482012c" + strings.Repeat("62", 300) + "0000", "30820130" + "0482012c" + strings.Repeat("62", 300)},
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
		"1f80", "1f808080808001" + "00", // truncated, then six tag octets
		"1f888080800000",        // tag 2^31: more than encoding/asn1 reads
		"3f04801f0501610000",    // a segment of tag 5 in an OCTET STRING (same first octet)
		"24801f050161" + "0000", // the same, the outer tag in the low form
		"048201",                // length octets cut short
	} {
		b, _ := hex.DecodeString(in)
		b = slices.Clip(b) // nothing readable past the end
		if _, err := ToDER(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", in, err)
		}
	}
}

// nested returns SEQUENCEs nested levels deep, in DER and in the
// indefinite-length form (complete, with every end-of-contents).
func nested(t *testing.T, levels int) (der, indef []byte) {
	t.Helper()
	for i := 0; i < levels; i++ {
		var err error
		if der, err = asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: der}); err != nil {
			t.Fatal(err)
		}
	}
	indef = append(bytes.Repeat([]byte{0x30, 0x80}, levels), make([]byte, 2*levels)...)
	return der, indef
}

// TestDepth: MaxDepth+1 levels (the outermost value is at depth 0) convert,
// one more is refused, in DER as in BER.
func TestDepth(t *testing.T) {
	der, indef := nested(t, MaxDepth+1)
	for name, in := range map[string][]byte{"DER": der, "indefinite": indef} {
		got, err := ToDER(in)
		if err != nil || !bytes.Equal(got, der) {
			t.Errorf("%d levels, %s: got %x, %v; want %x", MaxDepth+1, name, got, err, der)
		}
	}
	der, indef = nested(t, MaxDepth+2)
	for name, in := range map[string][]byte{"DER": der, "indefinite": indef} {
		if _, err := ToDER(in); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "nested deeper") {
			t.Errorf("%d levels, %s: got %v, want ErrMalformed for the depth", MaxDepth+2, name, err)
		}
	}
}

// TestDERUnchanged: DER input is returned as it is, without a copy — the
// bytes a signature covers are the bytes received.
func TestDERUnchanged(t *testing.T) {
	deep, _ := nested(t, MaxDepth+1)
	for _, s := range []string{
		"300602010102010a", "1f1f00", "bf810000", "1f87ffffff7f00", "3000", "0400", "a003040161",
		"048180" + strings.Repeat("61", 128), "0482012c" + strings.Repeat("62", 300), hex.EncodeToString(deep),
	} {
		in, _ := hex.DecodeString(s)
		var out []byte
		var err error
		if allocs := testing.AllocsPerRun(10, func() { out, err = ToDER(in) }); allocs != 0 {
			t.Errorf("%.40s…: %v allocations, want none for DER input", s, allocs)
		}
		if err != nil || len(out) != len(in) || &out[0] != &in[0] {
			t.Errorf("%.40s…: not returned as it is (%v)", s, err)
		}
	}
}

// checkDERWalk walks b with encoding/asn1 down to the primitive values and
// fails unless every value is DER: identifier and length octets are what
// asn1.Marshal writes for them, and no universal string type is constructed.
// It is independent of the package's own isDER.
func checkDERWalk(b []byte, depth int) error {
	if depth > MaxDepth+1 {
		return errors.New("too deep")
	}
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return err
		}
		canon, err := asn1.Marshal(asn1.RawValue{Class: v.Class, Tag: v.Tag, IsCompound: v.IsCompound, Bytes: v.Bytes})
		if err != nil {
			return err
		}
		if !bytes.Equal(canon, v.FullBytes) {
			return fmt.Errorf("%x is not in its DER form %x", v.FullBytes, canon)
		}
		if v.IsCompound {
			if v.Class == asn1.ClassUniversal && derStringTags[v.Tag] {
				return fmt.Errorf("constructed string type %d", v.Tag)
			}
			if err := checkDERWalk(v.Bytes, depth+1); err != nil {
				return err
			}
		}
		b = rest
	}
	return nil
}

var derStringTags = map[int]bool{3: true, 4: true, 12: true, 18: true, 19: true, 20: true, 21: true, 22: true, 25: true, 26: true, 27: true, 28: true, 30: true}

// TestOutputIsDER runs the fuzz property over the table and malformed cases.
func TestOutputIsDER(t *testing.T) {
	for _, s := range []string{"ff0100", "3080ff01000000", "3f04800401611f0401620000", "9f80210100", "1f87ffffff7f00", "238003020001030206c00000"} {
		in, _ := hex.DecodeString(s)
		out, err := ToDER(in)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if err := checkDERWalk(out, 0); err != nil {
			t.Errorf("ToDER(%s) = %x: %v", s, out, err)
		}
	}
}

// FuzzToDER asserts: no panic; the output is one value that encoding/asn1
// walks to the leaves as DER (minimal identifier and length octets, no
// constructed strings) and that converts to itself; input that is already
// DER comes back byte-for-byte.
func FuzzToDER(f *testing.F) {
	for _, s := range []string{"30800201010000", "2480040268690401210000", "300602010102010a", "ff0100", "3f04800401611f0401620000"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := ToDER(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		var v asn1.RawValue
		if rest, err := asn1.Unmarshal(out, &v); err != nil || len(rest) != 0 {
			t.Fatalf("ToDER(%x) = %x: not one value (%v, %d bytes after)", in, out, err, len(rest))
		}
		if err := checkDERWalk(out, 0); err != nil {
			t.Fatalf("ToDER(%x) = %x is not DER: %v", in, out, err)
		}
		again, err := ToDER(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("DER output is not a fixed point: %x → %x (%v)", out, again, err)
		}
		if checkDERWalk(in, 0) == nil && !bytes.Equal(out, in) {
			t.Fatalf("DER input changed: %x → %x", in, out)
		}
	})
}
