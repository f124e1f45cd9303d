//go:build windows

package agent

import (
	"fmt"
	"os"
)

// privateDir makes dir when missing. On Windows the default directory is
// under %LOCALAPPDATA%, whose ACL admits only the user, SYSTEM and
// administrators; a directory given by the operator is trusted as given.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() || fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("agent: %s is not a directory", dir)
	}
	return nil
}
