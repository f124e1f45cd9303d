package cades_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// npmDir holds the real cadesplugin clients the tests run, installed from
// npm at the versions package-lock.json pins (node_modules is not
// committed).
const npmDir = "testdata/npm"

var npmOnce struct {
	sync.Once
	err error
	out []byte
}

// npmInstall installs the pinned npm packages once (npm ci), when they are
// not there yet.
func npmInstall(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(npmDir)
	if err != nil {
		t.Fatal(err)
	}
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			npmOnce.err = err
			return
		}
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		npmOnce.out, npmOnce.err = cmd.CombinedOutput()
	})
	if npmOnce.err != nil {
		t.Fatalf("installing the npm test packages in %s (needs node and npm, and the npm registry): %v\n%s", dir, npmOnce.err, npmOnce.out)
	}
	return dir
}

// TestShimTypeChecks checks agent/client/cadesplugin.js against
// @types/cadesplugin with tsc (the window.cadesplugin object must have
// every constant and function the typings declare, with their types).
func TestShimTypeChecks(t *testing.T) {
	dir := npmInstall(t)
	cmd := exec.Command(filepath.Join(dir, "node_modules", ".bin", "tsc"), "-p", "tsconfig.json")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, out)
	}
}
