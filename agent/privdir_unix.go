//go:build unix

package agent

import (
	"fmt"
	"os"
	"syscall"
)

// privateDir makes dir (0700) when missing and checks that only this user
// can use it: a directory, not a link, owned by this user, with no group or
// other permissions. A launcher file holds a prompt's one-time address.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("agent: %s is not a directory", dir)
	case !ok || int(st.Uid) != os.Geteuid():
		return fmt.Errorf("agent: %s belongs to another user: kep will not put prompts there", dir)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("agent: %s can be read by other users (mode %o): kep will not put prompts there", dir, fi.Mode().Perm())
	}
	return nil
}
