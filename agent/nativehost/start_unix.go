//go:build unix

package nativehost

import (
	"os"
	"os/exec"
	"syscall"
)

// StartDetached starts exe with args in a session of its own, so that it
// outlives the host (and the browser that started the host), with stdin and
// stdout on /dev/null and stderr appended to logFile.
func StartDetached(exe string, args []string, logFile string) error {
	cmd := exec.Command(exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return startWithLog(cmd, logFile)
}

func startWithLog(cmd *exec.Cmd, logFile string) error {
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
