//go:build cgo

package pkcs11

import (
	"os"
	"os/exec"
	"testing"
)

// Where neither cgo nor the cgo-free loader is available (purego covers
// Linux, macOS and Windows on amd64 and arm64), the package still builds
// and reports ErrCryptokiNeedsCgo (TestNoCgo). Such a binary cannot run
// here, so this checks that the package and TestNoCgo compile and vet for
// linux/386 without cgo. The cgo-free loader itself runs the whole suite
// under CGO_ENABLED=0 (make test).
func TestBuildWithoutLoader(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool, "vet", ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=386")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOARCH=386 CGO_ENABLED=0 go vet: %v\n%s", err, out)
	}
}
