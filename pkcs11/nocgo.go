//go:build !cgo && !((linux || darwin || windows) && (amd64 || arm64))

package pkcs11

// loadCryptoki reports that this binary cannot load C libraries: Open and
// Discover return ErrCryptokiNeedsCgo.
func loadCryptoki(path string) (cryptoki, error) {
	return nil, ErrCryptokiNeedsCgo
}
