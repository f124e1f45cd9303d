//go:build !windows && !(unix && !solaris && !aix)

package filelock

import (
	"fmt"
	"os"
	"runtime"
)

var errUnsupported = fmt.Errorf("file locks are not implemented on %s", runtime.GOOS)

func lockWait(f *os.File) error { return errUnsupported }

func tryLock(f *os.File) (bool, error) { return false, errUnsupported }
