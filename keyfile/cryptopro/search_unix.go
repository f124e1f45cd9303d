//go:build !windows

package cryptopro

import (
	"os"
	"os/user"
	"path/filepath"
)

// Locations returns where CryptoPro CSP keeps containers on this machine:
// its key store /var/opt/cprocsp/keys/<user> and the removable drives
// mounted under /media, /media/<user> and /run/media/<user> (CryptoPro's
// "FLASH" readers look at the top of each drive).
func Locations() []string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	var out []string
	if name != "" {
		out = append(out, filepath.Join("/var/opt/cprocsp/keys", name))
	}
	out = append(out, "/media")
	if name != "" {
		out = append(out, filepath.Join("/media", name), filepath.Join("/run/media", name))
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, "Volumes")) // macOS-style mounts in a home folder
	}
	out = append(out, "/Volumes")
	return out
}
