//go:build !windows

package pkcs11

import "unsafe"

// nativeABI: CK_ULONG is C's unsigned long, as wide as a pointer on every
// Unix data model Go supports (LP64, ILP32); natural alignment.
var nativeABI = abi{ulong: int(unsafe.Sizeof(uint(0))), ptr: int(unsafe.Sizeof(uintptr(0))), pack: 0}
