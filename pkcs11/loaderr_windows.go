//go:build cgo && windows && !pkcs11purego

package pkcs11

import "syscall"

// loadError returns the Windows loader's reason why path cannot be loaded.
func loadError(path string) string {
	d, err := syscall.LoadDLL(path)
	if err != nil {
		return err.Error()
	}
	defer d.Release()
	if _, err := d.FindProc("C_GetFunctionList"); err != nil {
		return "no C_GetFunctionList export: not a PKCS#11 module"
	}
	return "the module loads now but did not a moment ago"
}
