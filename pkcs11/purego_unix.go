//go:build (!cgo || pkcs11purego) && (linux || darwin) && (amd64 || arm64)

package pkcs11

import (
	"errors"

	"github.com/ebitengine/purego"
)

// libHandle is what dlopen returned.
type libHandle = uintptr

// openLibrary dlopens path (RTLD_NOW: a module with unresolved symbols
// fails here, with the loader's message, not at its first call) and finds
// C_GetFunctionList.
func openLibrary(path string) (libHandle, uintptr, error) {
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return 0, 0, err
	}
	sym, err := purego.Dlsym(h, "C_GetFunctionList")
	if err != nil || sym == 0 {
		_ = purego.Dlclose(h)
		return 0, 0, errors.New("no C_GetFunctionList symbol: not a PKCS#11 module")
	}
	return h, sym, nil
}

func closeLibrary(h libHandle) { _ = purego.Dlclose(h) }
