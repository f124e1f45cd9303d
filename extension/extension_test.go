package extension

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestChromeID: the ID the host manifests allow is the one Chromium derives
// from the manifest's key (SHA-256 of the DER key, 16 bytes, a-p digits).
func TestChromeID(t *testing.T) {
	var m struct {
		Key string `json:"key"`
	}
	raw, _ := Manifest(Chromium)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(m.Key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	id := make([]byte, 32)
	for i, b := range sum[:16] {
		id[2*i], id[2*i+1] = 'a'+b>>4, 'a'+b&15
	}
	if string(id) != ChromeID {
		t.Fatalf("the key gives ID %s, ChromeID is %s", id, ChromeID)
	}
}

func TestManifests(t *testing.T) {
	for _, tc := range []struct {
		t          Target
		key, gecko bool
		background string
	}{{Chromium, true, false, "service_worker"}, {Firefox, false, true, "scripts"}} {
		raw, err := Manifest(tc.t)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		_, key := m["key"]
		bss, _ := m["browser_specific_settings"].(map[string]any)
		bg, _ := m["background"].(map[string]any)
		if key != tc.key || (bss != nil) != tc.gecko || bg[tc.background] == nil || m["manifest_version"] != 3.0 {
			t.Errorf("target %d: manifest %s", tc.t, raw)
		}
		if tc.gecko && bss["gecko"].(map[string]any)["id"] != FirefoxID {
			t.Errorf("gecko id: %v", bss)
		}
		// The page-world script runs first, at document_start.
		cs := m["content_scripts"].([]any)
		first := cs[0].(map[string]any)
		if first["world"] != "MAIN" || first["run_at"] != "document_start" {
			t.Errorf("content script %v", first)
		}
	}
}

// TestBuild: both packages hold every file, the target's manifest and the
// extras, and the same input gives the same bytes.
func TestBuild(t *testing.T) {
	extra := map[string][]byte{"cadesplugin.js": []byte("// shim")}
	for _, target := range []Target{Chromium, Firefox} {
		var a, b bytes.Buffer
		if err := Build(&a, target, extra); err != nil {
			t.Fatal(err)
		}
		Build(&b, target, extra)
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("target %d: two builds differ", target)
		}
		zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, f := range zr.File {
			got[f.Name] = true
			if f.Name == "manifest.json" {
				r, _ := f.Open()
				var m map[string]any
				if err := json.NewDecoder(r).Decode(&m); err != nil {
					t.Fatal(err)
				}
				if _, key := m["key"]; key != (target == Chromium) {
					t.Errorf("target %d: key in manifest %v", target, key)
				}
			}
		}
		for _, n := range []string{"manifest.json", "background.js", "content.js", "page.js", "popup.html", "popup.js", "cadesplugin.js"} {
			if !got[n] {
				t.Errorf("target %d: %s missing (%v)", target, n, got)
			}
		}
	}
	if err := Build(&bytes.Buffer{}, Firefox, map[string][]byte{"../x": nil}); err == nil {
		t.Error("a file outside the package was accepted")
	}
}

// TestWebExtLint: Mozilla's linter (scripts/web-ext.sh, pinned, installed
// from npm on first use) finds no error and no warning in the .xpi.
func TestWebExtLint(t *testing.T) {
	t.Parallel() // beside the browser test
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: web-ext cannot be had (install nodejs and npm)")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	dir := t.TempDir()
	xpi := filepath.Join(dir, "kep.xpi")
	if err := WriteFile(xpi, Firefox, nil); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src")
	zr, err := zip.OpenReader(xpi)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	os.Mkdir(src, 0o755)
	for _, f := range zr.File {
		r, _ := f.Open()
		var buf bytes.Buffer
		buf.ReadFrom(r)
		r.Close()
		os.WriteFile(filepath.Join(src, f.Name), buf.Bytes(), 0o644)
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "web-ext.sh"), "lint", "--source-dir", src, "--output", "json")
	cmd.Env = append(os.Environ(), "NO_UPDATE_NOTIFIER=1")
	out, err := cmd.Output()
	var res struct {
		Summary  map[string]int `json:"summary"`
		Errors   []any          `json:"errors"`
		Warnings []any          `json:"warnings"`
	}
	if jerr := json.Unmarshal(out[bytes.IndexByte(out, '{'):], &res); jerr != nil {
		t.Fatalf("web-ext lint: %v %v\n%s", err, jerr, out)
	}
	if res.Summary["errors"] != 0 || res.Summary["warnings"] != 0 {
		t.Fatalf("web-ext lint: %v\nerrors %v\nwarnings %v", res.Summary, res.Errors, res.Warnings)
	}
	if !strings.Contains(string(out), `"summary"`) {
		t.Fatal("no summary")
	}
}
