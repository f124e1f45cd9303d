//go:build windows

package nativehost

import (
	"os"
	"os/exec"
	"syscall"
)

// StartDetached starts exe with args detached from the host's console (so
// that it outlives the host and the browser that started it), with stderr
// appended to logFile.
func StartDetached(exe string, args []string, logFile string) error {
	cmd := exec.Command(exe, args...)
	const detachedProcess, newProcessGroup = 0x00000008, 0x00000200
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: detachedProcess | newProcessGroup, HideWindow: true}
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		cmd.Stderr = f
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
