//go:build cgo || ((linux || darwin || windows) && (amd64 || arm64))

package pkcs11

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const openscModule = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"

// Discover reports each module it tried: those that load with their tokens,
// the others with the loader's or C_Initialize's error.
func TestDiscover(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	if _, err := os.Stat(openscModule); err != nil {
		t.Fatalf("OpenSC: %v (run `make deps`)", err)
	}
	dir := t.TempDir()
	notLib := filepath.Join(dir, "notalib.so")
	if err := os.WriteFile(notLib, []byte("not an ELF file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	libc := "/usr/lib/x86_64-linux-gnu/libc.so.6" // loads, but is no PKCS#11 module
	real, _ := filepath.EvalSymlinks(softhsmModule)
	conf := filepath.Join(dir, "modules.json")
	list := `["` + openscModule + `", "missing/libvendor.so", "` + real + `"]`
	if err := os.WriteFile(conf, []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	got := Discovery{
		Paths:       []string{softhsmModule, "/nonexistent/librtpkcs11ecp.so", notLib, libc, "libkep-no-such-pkcs11.so"},
		ConfigFile:  conf,
		NoWellKnown: true,
	}.Discover(context.Background())

	type want struct {
		path    string
		source  Source
		loaded  bool
		errText string
	}
	wants := []want{
		{softhsmModule, SourceExplicit, true, ""},
		{"/nonexistent/librtpkcs11ecp.so", SourceExplicit, false, "no such file or directory"},
		{notLib, SourceExplicit, false, "notalib.so"},
		{libc, SourceExplicit, false, "C_GetFunctionList"},
		{"libkep-no-such-pkcs11.so", SourceExplicit, false, "cannot open shared object file"}, // searched by the loader
		{openscModule, SourceConfig, true, ""},
		{filepath.Join(dir, "missing/libvendor.so"), SourceConfig, false, "no such file"},
		// real is the same file as softhsmModule: not reported twice.
	}
	if len(got) != len(wants) {
		t.Fatalf("%d statuses, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		g := got[i]
		if g.Path != w.path || g.Source != w.source || g.Loaded != w.loaded {
			t.Errorf("status %d: %s %s loaded=%v err=%v; want %s %s loaded=%v", i, g.Path, g.Source, g.Loaded, g.Err, w.path, w.source, w.loaded)
			continue
		}
		if w.errText == "" {
			if g.Err != nil {
				t.Errorf("%s: %v", g.Path, g.Err)
			}
			continue
		}
		if !errors.Is(g.Err, ErrModuleLoad) || !strings.Contains(g.Err.Error(), w.errText) {
			t.Errorf("%s: %v, want ErrModuleLoad with %q", g.Path, g.Err, w.errText)
		}
	}
	if s := got[0]; s.Info.Manufacturer != "SoftHSM" || len(s.Tokens) != 2 || s.Tokens[0].Label != tokenLabel {
		t.Errorf("SoftHSM status %+v", s)
	}
	if s := got[5]; !strings.Contains(s.Info.Manufacturer, "OpenSC") || len(s.Tokens) != 0 {
		t.Errorf("OpenSC status %+v", s)
	}

	// A config file that does not parse is reported, as its own status.
	if err := os.WriteFile(conf, []byte(`{"modules": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	got = Discovery{ConfigFile: conf, NoWellKnown: true}.Discover(context.Background())
	if len(got) != 1 || got[0].Path != conf || got[0].Source != SourceConfig || got[0].Err == nil {
		t.Fatalf("bad config: %+v", got)
	}
	// A missing one is not.
	if got := (Discovery{ConfigFile: filepath.Join(dir, "none.json"), NoWellKnown: true}).Discover(context.Background()); len(got) != 0 {
		t.Fatalf("missing config: %+v", got)
	}
}

// The well-known paths find the SoftHSM2 and OpenSC modules Debian installs,
// each once although both are reachable by two paths.
func TestDiscoverWellKnown(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	got := Discovery{NoConfig: true}.Discover(context.Background())
	count := map[string]int{}
	for _, s := range got {
		if s.Source != SourceWellKnown {
			t.Errorf("source %s for %s", s.Source, s.Path)
		}
		if s.Err != nil || !s.Loaded {
			t.Errorf("%s (%s): loaded %v, %v", s.Path, s.Vendor, s.Loaded, s.Err)
		}
		count[s.Vendor]++
	}
	if count["SoftHSM2"] != 1 || count["OpenSC"] != 1 {
		t.Fatalf("vendors found %v, want SoftHSM2 and OpenSC once each: %+v", count, got)
	}
}

// SoftHSM without a usable configuration fails in C_Initialize: Open says so.
func TestOpenInitializeFails(t *testing.T) {
	t.Setenv("SOFTHSM2_CONF", filepath.Join(t.TempDir(), "missing.conf"))
	m, err := Open(context.Background(), softhsmModule)
	if err == nil {
		m.Close()
		t.Fatal("Open succeeded without a SoftHSM configuration")
	}
	var pe *Error
	if !errors.Is(err, ErrModuleLoad) || !errors.As(err, &pe) || pe.Func != "C_Initialize" {
		t.Fatalf("Open: %v", err)
	}
	// Nothing was left registered: a good configuration works at once.
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	openSoftHSM(t, tokenLabel, UI{})
}
