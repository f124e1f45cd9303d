//go:build windows

package cryptopro

import (
	"os"
	"path/filepath"
)

// Locations returns where CryptoPro CSP keeps containers on Windows: the
// user's %LOCALAPPDATA%\Crypto Pro folder and the top of drives D: to Z:
// (flash drives; CryptoPro's "FLASH" readers look at the top of each drive).
// Containers kept in the registry are not files and are not found.
func Locations() []string {
	var out []string
	if d := os.Getenv("LOCALAPPDATA"); d != "" {
		out = append(out, filepath.Join(d, "Crypto Pro"))
	}
	for c := 'D'; c <= 'Z'; c++ {
		root := string(c) + `:\`
		if _, err := os.Stat(root); err == nil {
			out = append(out, root)
		}
	}
	return out
}
