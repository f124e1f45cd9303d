//go:build cgo

package pkcs11

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The package builds without cgo and reports ErrCryptokiNeedsCgo from its
// entry points (TestNoCgo, compiled only then).
func TestBuildWithoutCgo(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "test", "-count=1", "-run", "^TestNoCgo$", "-v", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoCgo") {
		t.Fatalf("CGO_ENABLED=0 go test: %v\n%s", err, out)
	}
}
