//go:build (!cgo || pkcs11purego) && (amd64 || arm64)

package pkcs11

import (
	"errors"
	"syscall"
)

// libHandle is what LoadLibrary returned.
type libHandle = *syscall.DLL

// openLibrary loads path with LoadLibrary and finds C_GetFunctionList.
// Windows PKCS#11 modules use the platform's one x64 calling convention,
// which purego.SyscallN (syscall.SyscallN there) speaks.
func openLibrary(path string) (libHandle, uintptr, error) {
	d, err := syscall.LoadDLL(path)
	if err != nil {
		return nil, 0, err
	}
	p, err := d.FindProc("C_GetFunctionList")
	if err != nil {
		_ = d.Release()
		return nil, 0, errors.New("no C_GetFunctionList export: not a PKCS#11 module")
	}
	return d, p.Addr(), nil
}

func closeLibrary(d libHandle) { _ = d.Release() }
