//go:build valgrind

package gost3410

import "unsafe"

// vgClientRequest is Valgrind's client request (valgrind_amd64.s), for the
// constant-time check in ct_valgrind_test.go; only in builds with the
// valgrind tag.
//
//go:noescape
func vgClientRequest(args *[6]uint64) uint64

// vgMakeUndefined tells Memcheck that b holds secret ("undefined") data:
// it then reports every branch and every address computed from it.
func vgMakeUndefined(b unsafe.Pointer, n uintptr) {
	const makeMemUndefined = 'M'<<24 | 'C'<<16 + 1 // VG_USERREQ__MAKE_MEM_UNDEFINED
	vgClientRequest(&[6]uint64{makeMemUndefined, uint64(uintptr(b)), uint64(n)})
}

// vgMakeDefined marks b as public again.
func vgMakeDefined(b unsafe.Pointer, n uintptr) {
	const makeMemDefined = 'M'<<24 | 'C'<<16 + 2 // VG_USERREQ__MAKE_MEM_DEFINED
	vgClientRequest(&[6]uint64{makeMemDefined, uint64(uintptr(b)), uint64(n)})
}
