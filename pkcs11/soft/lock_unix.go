//go:build unix

package soft

import (
	"os"
	"syscall"
)

// lockFile takes a flock(2) lock on f: exclusive or shared. Closing f
// releases it.
func lockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
