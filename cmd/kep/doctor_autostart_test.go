//go:build linux

package main

import (
	"context"
	"testing"

	"github.com/kepkit/kep/install"
)

// kep doctor's autostart finding follows what kep install did, in a
// home of the test's own.
func TestDoctorAutostart(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	ctx := context.Background()
	if f := autostartFindings(ctx); len(f) != 1 || f[0].Code != "AUTOSTART_NOT_INSTALLED" || f[0].Fix == "" {
		t.Fatalf("before install: %+v", f)
	}
	if _, err := install.Install(ctx, install.Env{}); err != nil {
		t.Fatal(err)
	}
	if f := autostartFindings(ctx); len(f) != 1 || f[0].Code != "AUTOSTART_INSTALLED" {
		t.Fatalf("after install: %+v", f)
	}
	if _, err := install.Uninstall(ctx, install.Env{}); err != nil {
		t.Fatal(err)
	}
	if f := autostartFindings(ctx); f[0].Code != "AUTOSTART_NOT_INSTALLED" {
		t.Fatalf("after uninstall: %+v", f)
	}
}
