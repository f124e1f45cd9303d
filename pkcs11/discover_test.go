package pkcs11

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := ReadConfig(write("ok.json", `["/abs/lib.so", "rel/lib.so", "libbare.so"]`))
	want := []string{"/abs/lib.so", filepath.Join(dir, "rel/lib.so"), "libbare.so"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	for name, text := range map[string]string{
		"object.json":   `{"modules": ["/a.so"]}`,
		"numbers.json":  `[1, 2]`,
		"empty-entry":   `["/a.so", ""]`,
		"truncated":     `["/a.so"`,
		"not-json.json": `/usr/lib/a.so`,
	} {
		if _, err := ReadConfig(write(name, text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ReadConfig(write("big.json", "["+strings.Repeat(`"/a.so",`, 1<<17)+`"/b.so"]`)); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("oversized list: %v", err)
	}
	if _, err := ReadConfig(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestDefaultConfigFile(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/home/u/.config-test")
	t.Setenv("HOME", "/Users/u")
	t.Setenv("AppData", `C:\Users\u\AppData\Roaming`)
	want := "/home/u/.config-test/kep/modules.json"
	switch runtime.GOOS {
	case "darwin", "ios":
		want = "/Users/u/Library/Application Support/kep/modules.json"
	case "windows":
		want = `C:\Users\u\AppData\Roaming\kep\modules.json`
	}
	if p, err := DefaultConfigFile(); err != nil || p != want {
		t.Fatalf("got %s, %v; want %s", p, err, want)
	}
}

func TestWellKnownPaths(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"SystemRoot": `C:\Windows`, "ProgramFiles": `C:\Program Files`}[k]
	}
	for _, tc := range []struct {
		goos, goarch string
		want         map[string]string // vendor -> one path it must list
	}{
		{"linux", "amd64", map[string]string{
			"Rutoken":        "/opt/aktivco/rutokenecp/x86_64/librtpkcs11ecp.so",
			"JaCarta":        "/usr/lib/libjcPKCS11-2.so",
			"SafeNet eToken": "/usr/lib64/libeTPkcs11.so",
			"OpenSC":         "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
			"SoftHSM2":       "/usr/lib/softhsm/libsofthsm2.so",
			"p11-kit":        "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so",
		}},
		{"linux", "arm64", map[string]string{
			"Rutoken":  "/usr/lib/aarch64-linux-gnu/librtpkcs11ecp.so",
			"SoftHSM2": "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		}},
		{"windows", "amd64", map[string]string{
			"Rutoken":        `C:\Windows\System32\rtPKCS11ECP.dll`,
			"JaCarta":        `C:\Windows\System32\jcPKCS11-2.dll`,
			"SafeNet eToken": `C:\Windows\System32\eTPKCS11.dll`,
			"OpenSC":         `C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`,
			"SoftHSM2":       `C:\SoftHSM2\lib\softhsm2-x64.dll`,
		}},
		{"darwin", "arm64", map[string]string{
			"Rutoken":        "/Library/Frameworks/rtpkcs11ecp.framework/rtpkcs11ecp",
			"JaCarta":        "/Library/Frameworks/jcPKCS11-2.framework/jcPKCS11-2",
			"SafeNet eToken": "/usr/local/lib/libeTPkcs11.dylib",
			"OpenSC":         "/Library/OpenSC/lib/opensc-pkcs11.so",
			"SoftHSM2":       "/opt/homebrew/lib/softhsm/libsofthsm2.so",
			"p11-kit":        "/opt/homebrew/lib/p11-kit-proxy.dylib",
		}},
	} {
		got := wellKnown(tc.goos, tc.goarch, env)
		for vendor, path := range tc.want {
			if !slices.Contains(got, candidate{vendor, path}) {
				t.Errorf("%s/%s: %s at %s missing", tc.goos, tc.goarch, vendor, path)
			}
		}
		if tc.goos != "linux" {
			continue
		}
		for _, c := range got {
			if tc.goarch == "arm64" && strings.Contains(c.path, "x86_64") {
				t.Errorf("linux/arm64 lists %s", c.path)
			}
		}
	}
}
