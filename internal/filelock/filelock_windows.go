package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockRange locks one byte at offset 0 (the file may stay empty: Windows
// locks ranges beyond the end of a file).
func lockRange(f *os.File, flags uint32) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|flags, 0, 1, 0, new(windows.Overlapped))
}

// lockWait takes LockFileEx's exclusive lock on f, waiting for it.
func lockWait(f *os.File) error { return lockRange(f, 0) }

// tryLock takes the exclusive lock on f when nobody holds it; false when
// somebody does.
func tryLock(f *os.File) (bool, error) {
	err := lockRange(f, windows.LOCKFILE_FAIL_IMMEDIATELY)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return false, nil
	}
	return false, err
}
