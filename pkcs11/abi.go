package pkcs11

import (
	"encoding/binary"
	"strings"
)

// abi is the memory layout of the PKCS#11 structures on one platform, for
// the cgo-free loader, which reads and writes them as bytes. Two things
// differ between platforms:
//
//   - CK_ULONG is C's unsigned long: 8 bytes on 64-bit Unix (LP64), 4 bytes
//     on Windows (LLP64) and on 32-bit systems;
//   - packing: the PKCS#11 headers put the structures under
//     #pragma pack(1) on Windows, so there a pointer after a CK_ULONG starts
//     4 bytes in, and the function pointers of CK_FUNCTION_LIST 2 bytes in;
//     on Unix every field has its natural alignment.
//
// Pointers are the machine's (8 bytes on every platform the loader runs on,
// 4 on 32-bit ones). The layout is computed from the field sizes, as a C
// compiler does; abi_test.go checks it against gcc's offsetof for both
// variants.
type abi struct {
	ulong int // sizeof(CK_ULONG)
	ptr   int // sizeof(void *)
	pack  int // the largest alignment a field gets: 1 on Windows, 0 for natural alignment
}

// field kinds of a PKCS#11 structure.
const (
	fByte  = iota // CK_BYTE, CK_BBOOL, CK_UTF8CHAR (arrays: n of them)
	fULong        // CK_ULONG and its aliases
	fPtr          // any pointer
)

type cfield struct {
	kind int
	n    int // array length, 1 for a scalar
}

func (a abi) sizeAlign(f cfield) (size, align int) {
	switch f.kind {
	case fULong:
		size, align = a.ulong, a.ulong
	case fPtr:
		size, align = a.ptr, a.ptr
	default:
		size, align = 1, 1
	}
	if a.pack > 0 && align > a.pack {
		align = a.pack
	}
	return size * f.n, align
}

// layout returns the offset of each field and the size of the structure.
func (a abi) layout(fields ...cfield) (offsets []int, size int) {
	maxAlign := 1
	for _, f := range fields {
		s, al := a.sizeAlign(f)
		size = (size + al - 1) / al * al
		offsets = append(offsets, size)
		size += s
		maxAlign = max(maxAlign, al)
	}
	size = (size + maxAlign - 1) / maxAlign * maxAlign
	return offsets, size
}

func chars(n int) cfield { return cfield{fByte, n} }

var (
	ulongField   = cfield{fULong, 1}
	ptrField     = cfield{fPtr, 1}
	versionField = chars(2) // CK_VERSION {major, minor}
)

// The structures the loader passes, field by field as in pkcs11t.h.
func (a abi) attribute() ([]int, int) { return a.layout(ulongField, ptrField, ulongField) } // also CK_MECHANISM
func (a abi) info() ([]int, int) {
	return a.layout(versionField, chars(32), ulongField, chars(32), versionField)
}
func (a abi) slotInfo() ([]int, int) {
	return a.layout(chars(64), chars(32), ulongField, versionField, versionField)
}
func (a abi) tokenInfo() ([]int, int) {
	f := []cfield{chars(32), chars(32), chars(16), chars(16), ulongField}
	for range 10 {
		f = append(f, ulongField) // session counts, PIN lengths, memory
	}
	return a.layout(append(f, versionField, versionField, chars(16))...)
}
func (a abi) initArgs() ([]int, int) {
	return a.layout(ptrField, ptrField, ptrField, ptrField, ulongField, ptrField)
}
func (a abi) sessionInfo() ([]int, int) {
	return a.layout(ulongField, ulongField, ulongField, ulongField)
}

// functionOffset is where the i-th function pointer of CK_FUNCTION_LIST
// is: after the CK_VERSION, each pointer aligned as the packing allows.
func (a abi) functionOffset(i int) int {
	f := []cfield{versionField}
	for range i + 1 {
		f = append(f, ptrField)
	}
	off, _ := a.layout(f...)
	return off[i+1]
}

// getULong reads a CK_ULONG at off (PKCS#11 platforms are little-endian
// or use the native order, which binary.NativeEndian is).
func (a abi) getULong(b []byte, off int) uint {
	if a.ulong == 4 {
		return uint(binary.NativeEndian.Uint32(b[off:]))
	}
	return uint(binary.NativeEndian.Uint64(b[off:]))
}

func (a abi) putULong(b []byte, off int, v uint) {
	if a.ulong == 4 {
		binary.NativeEndian.PutUint32(b[off:], uint32(v))
		return
	}
	binary.NativeEndian.PutUint64(b[off:], uint64(v))
}

func (a abi) putPtr(b []byte, off int, p uintptr) {
	if a.ptr == 4 {
		binary.NativeEndian.PutUint32(b[off:], uint32(p))
		return
	}
	binary.NativeEndian.PutUint64(b[off:], uint64(p))
}

// ulongBytes encodes v as a CK_ULONG attribute value.
func (a abi) ulongBytes(v uint) []byte {
	b := make([]byte, a.ulong)
	a.putULong(b, 0, v)
	return b
}

// ulongMask keeps the CK_ULONG part of a register: a function returning a
// 32-bit CK_RV leaves the upper half of the 64-bit register undefined.
func (a abi) ulongMask() uint {
	if a.ulong == 4 {
		return 1<<32 - 1
	}
	return ^uint(0)
}

// padded decodes a blank-padded PKCS#11 string field.
func padded(b []byte) string { return strings.TrimRight(string(b), " ") }

// attrValue encodes a template value as github.com/miekg/pkcs11 does: a
// bool as one CK_BBOOL byte, integers as a CK_ULONG, strings and byte
// slices as they are.
func (a abi) attrValue(v any) []byte {
	switch v := v.(type) {
	case nil:
		return nil
	case bool:
		if v {
			return []byte{1}
		}
		return []byte{0}
	case uint:
		return a.ulongBytes(v)
	case int:
		return a.ulongBytes(uint(v))
	case uint32:
		return a.ulongBytes(uint(v))
	case uint64:
		return a.ulongBytes(uint(v))
	case string:
		return []byte(v)
	case []byte:
		return v
	}
	panic("pkcs11: unhandled attribute value type")
}
