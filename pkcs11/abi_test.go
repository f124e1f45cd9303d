package pkcs11

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// abiProbe prints, as a C compiler lays them out, the offsets and sizes
// the cgo-free loader computes; KEP_PACK1 selects the Windows variant
// (#pragma pack(1), 4-byte CK_ULONG), which gcc reproduces exactly on
// Linux: MinGW-w64 lays out packed structures the same way.
const abiProbe = `#include <stdio.h>
#include <stddef.h>
#ifdef KEP_PACK1
typedef unsigned int CK_ULONG;
#pragma pack(push, 1)
#else
typedef unsigned long CK_ULONG;
#endif
typedef struct { unsigned char major, minor; } V;
typedef struct { CK_ULONG type; void *p; CK_ULONG len; } A;
typedef struct { V v; unsigned char m[32]; CK_ULONG flags; unsigned char d[32]; V lv; } I;
typedef struct { unsigned char d[64]; unsigned char m[32]; CK_ULONG flags; V hw, fw; } S;
typedef struct { unsigned char l[32], m[32], mo[16], s[16]; CK_ULONG flags, a, b, c, d, maxPin, minPin, e, f, g, h; V hw, fw; unsigned char t[16]; } T;
typedef struct { void *a, *b, *c, *d; CK_ULONG flags; void *r; } N;
typedef struct { CK_ULONG slot, state, flags, err; } E;
typedef struct { V v; void *f[68]; } F;
#ifdef KEP_PACK1
#pragma pack(pop)
#endif
#define O(t, f) printf(" %zu", offsetof(t, f))
int main(void) {
	printf("attribute"); O(A, type); O(A, p); O(A, len); printf(" %zu\n", sizeof(A));
	printf("info"); O(I, v); O(I, m); O(I, flags); O(I, d); O(I, lv); printf(" %zu\n", sizeof(I));
	printf("slotInfo"); O(S, d); O(S, m); O(S, flags); O(S, hw); O(S, fw); printf(" %zu\n", sizeof(S));
	printf("tokenInfo"); O(T, l); O(T, m); O(T, mo); O(T, s); O(T, flags); O(T, a); O(T, b); O(T, c); O(T, d);
	O(T, maxPin); O(T, minPin); O(T, e); O(T, f); O(T, g); O(T, h); O(T, hw); O(T, fw); O(T, t); printf(" %zu\n", sizeof(T));
	printf("initArgs"); O(N, a); O(N, b); O(N, c); O(N, d); O(N, flags); O(N, r); printf(" %zu\n", sizeof(N));
	printf("sessionInfo"); O(E, slot); O(E, state); O(E, flags); O(E, err); printf(" %zu\n", sizeof(E));
	printf("functions %zu %zu %zu\n", offsetof(F, f[0]), offsetof(F, f[43]), offsetof(F, f[67]));
	return 0;
}
`

// goLayout prints the same lines from abi.
func goLayout(a abi) string {
	var b strings.Builder
	for _, s := range []struct {
		name string
		f    func() ([]int, int)
	}{{"attribute", a.attribute}, {"info", a.info}, {"slotInfo", a.slotInfo}, {"tokenInfo", a.tokenInfo},
		{"initArgs", a.initArgs}, {"sessionInfo", a.sessionInfo}} {
		off, size := s.f()
		b.WriteString(s.name)
		for _, o := range off {
			fmt.Fprintf(&b, " %d", o)
		}
		fmt.Fprintf(&b, " %d\n", size)
	}
	fmt.Fprintf(&b, "functions %d %d %d\n", a.functionOffset(0), a.functionOffset(43), a.functionOffset(67))
	return b.String()
}

// The Unix (natural alignment, 8-byte CK_ULONG) and Windows (1-byte
// packing, 4-byte CK_ULONG) layouts match gcc's, field by field.
func TestABILayoutMatchesC(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc: %v (run `make deps`)", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "probe.c")
	if err := os.WriteFile(src, []byte(abiProbe), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		flags []string
		abi   abi
	}{
		{"unix-lp64", nil, abi{ulong: 8, ptr: 8}},
		{"windows-llp64-pack1", []string{"-DKEP_PACK1"}, abi{ulong: 4, ptr: 8, pack: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			exe := filepath.Join(dir, c.name)
			if out, err := exec.Command(gcc, append(c.flags, "-o", exe, src)...).CombinedOutput(); err != nil {
				t.Fatalf("gcc: %v\n%s", err, out)
			}
			out, err := exec.Command(exe).Output()
			if err != nil {
				t.Fatal(err)
			}
			if got := goLayout(c.abi); got != string(out) {
				t.Fatalf("layout differs from C's\nGo:\n%sC:\n%s", got, out)
			}
		})
	}
	// Spot checks of the differences that matter on Windows.
	w := abi{ulong: 4, ptr: 8, pack: 1}
	if off, size := w.attribute(); off[1] != 4 || size != 16 {
		t.Fatalf("Windows CK_ATTRIBUTE: %v %d", off, size)
	}
	if w.functionOffset(0) != 2 {
		t.Fatalf("Windows function list at %d", w.functionOffset(0))
	}
}

// CK_ULONG values, in both widths, and the CK_RV mask.
func TestABIULong(t *testing.T) {
	for _, a := range []abi{{ulong: 8, ptr: 8}, {ulong: 4, ptr: 8, pack: 1}} {
		b := a.attrValue(uint(0x1234))
		if len(b) != a.ulong || a.getULong(b, 0) != 0x1234 {
			t.Fatalf("%d-byte CK_ULONG: % x", a.ulong, b)
		}
		if v, err := ulong(b); err != nil || v != 0x1234 {
			t.Fatalf("ulong(% x) = %d, %v", b, v, err)
		}
	}
	if reg := uint64(0xdeadbeef)<<32 | 0x101; uint64((abi{ulong: 4}).ulongMask())&reg != 0x101 {
		t.Fatal("a 32-bit CK_RV keeps the register's upper half")
	}
	if string((abi{ulong: 8}).attrValue(true)) != "\x01" || (abi{ulong: 8}).attrValue(nil) != nil {
		t.Fatal("bool or nil attribute")
	}
}
