//go:build !cgo && !((linux || darwin || windows) && (amd64 || arm64))

package pkcs11

import (
	"context"
	"errors"
	"os"
	"testing"
)

// Run by TestBuildWithoutCgo: a binary without cgo says clearly that
// PKCS#11 needs cgo.
func TestNoCgo(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "/usr/lib/softhsm/libsofthsm2.so"); !errors.Is(err, ErrCryptokiNeedsCgo) {
		t.Fatalf("Open: %v", err)
	}
	exe, err := os.Executable() // a file that exists: the failure is cgo's, not the path's
	if err != nil {
		t.Fatal(err)
	}
	st := Discovery{Paths: []string{exe}, NoConfig: true, NoWellKnown: true}.Discover(ctx)
	if len(st) != 1 || st[0].Loaded || !errors.Is(st[0].Err, ErrCryptokiNeedsCgo) {
		t.Fatalf("Discover: %+v", st)
	}
}
