package pkcs11

import "unsafe"

// nativeABI: CK_ULONG is unsigned long, 4 bytes on Windows (LLP64) whatever
// the pointer size, and the PKCS#11 structures are packed to 1 byte
// (#pragma pack(push, cryptoki, 1) in the Windows cryptoki headers).
var nativeABI = abi{ulong: 4, ptr: int(unsafe.Sizeof(uintptr(0))), pack: 1}
