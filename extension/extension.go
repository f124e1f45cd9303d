// Package extension is kep's browser extension (Manifest V3) for the
// Chromium family (Chrome, Chromium, Edge, Yandex Browser) and Firefox, and
// the code that packages it. The extension's files sit beside this one; they
// are the unpacked extension a browser can load as is (the Chromium
// manifest). Build writes the store packages: a zip for the Chrome Web Store,
// Edge Add-ons and the Yandex catalogue, and an .xpi for Firefox, whose
// manifest is derived from the Chromium one.
//
// The extension's ID is fixed by the "key" in manifest.json: the public half
// of an RSA-2048 key pair made once with
//
//	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out ext-key.pem
//	openssl pkey -in ext-key.pem -pubout -outform DER | base64 -w0
//
// (the private key was not kept: the stores sign what they publish, and the
// ID follows from the public key alone). The ID is the first 16 bytes of the
// SHA-256 of that DER key, in hex with the digits 0-f written a-p; the test
// checks ChromeID against the manifest. Native-messaging host manifests allow
// exactly ChromeOrigin and FirefoxID.
//
// The one web-accessible resource is kep.js (manifest.json, which cannot
// hold comments, so here): the per-site cadesplugin switch puts
// cadesplugin.js in a page's own world, where it imports kep.js from the
// package and connects over the extension's road; importing it from the
// agent's loopback port instead would meet Chrome's Local Network Access
// prompt, which the extension is there to avoid. A page world has no
// chrome.runtime.getURL, so content.js tells the page the URL
// (window.kepExtension.client()). Exposing a resource lets a page detect
// the extension; kep's extension is visible to every page anyway
// (window.kepExtension), and kep.js is the public client the agent serves
// to anyone. Still, it is exposed only to https pages (the switch takes
// only https sites) and only by its dynamic URL (use_dynamic_url: an ID
// made anew each browser session, so the fixed ID does not reach it; the
// browser test checks both). The sites switched on are chosen at run time,
// and the manifest's matches cannot follow them. Firefox takes the same
// entry as is (its moz-extension ID is random per profile already).
package extension

import (
	"archive/zip"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"time"
)

const (
	// HostName is the native-messaging host's name (connectNative).
	HostName = "io.github.kepkit.kep"
	// ChromeID is the extension's ID in every Chromium-family browser.
	ChromeID = "dlddleogcmheghkldiemeeklfnciopjn"
	// ChromeOrigin is how Chromium names the extension to the host.
	ChromeOrigin = "chrome-extension://" + ChromeID + "/"
	// FirefoxID is the extension's ID in Firefox (browser_specific_settings).
	FirefoxID = "kep@kepkit.github.io"
	// FirefoxMinVersion: content scripts in the page's world (128) and the
	// data-collection declaration (140, the ESR).
	FirefoxMinVersion = "140.0"
)

//go:embed manifest.json *.js popup.html
var files embed.FS

// Target is a browser family's package.
type Target int

const (
	Chromium Target = iota // Chrome, Chromium, Edge, Yandex Browser: a zip
	Firefox                // an .xpi (a zip with the Firefox manifest)
)

// Files returns the extension's files as a browser loads them unpacked
// (the Chromium manifest).
func Files() fs.FS { return files }

// Manifest returns the target's manifest.json.
func Manifest(t Target) ([]byte, error) {
	raw, err := files.ReadFile("manifest.json")
	if err != nil {
		return nil, err
	}
	if t == Chromium {
		return raw, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	// Firefox: no "key" (the ID is the gecko id), an event page instead of
	// a service worker, and the gecko settings.
	delete(m, "key")
	delete(m, "minimum_chrome_version")
	m["background"] = map[string]any{"scripts": []string{"background.js"}}
	// kep collects nothing: AMO asks extensions to say so.
	m["browser_specific_settings"] = map[string]any{"gecko": map[string]any{"id": FirefoxID, "strict_min_version": FirefoxMinVersion,
		"data_collection_permissions": map[string]any{"required": []string{"none"}}},
		"gecko_android": map[string]any{"strict_min_version": "142.0"}}
	return json.MarshalIndent(m, "", "  ")
}

// epoch is every file's time in the packages, so that a build is the same
// bytes each time.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Build writes the target's package to w. extra adds files to it (name →
// content), such as agent/client/cadesplugin.js when it exists, with the
// agent/client/kep.js it imports from the package.
func Build(w io.Writer, t Target, extra map[string][]byte) error {
	man, err := Manifest(t)
	if err != nil {
		return err
	}
	content := map[string][]byte{"manifest.json": man}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "manifest.json" {
			return err
		}
		data, err := files.ReadFile(p)
		content[p] = data
		return err
	})
	if err != nil {
		return err
	}
	for name, data := range extra {
		if !fs.ValidPath(name) || name == "." {
			return fmt.Errorf("extension: bad file name %q", name)
		}
		content[name] = data
	}
	names := make([]string, 0, len(content))
	for n := range content {
		names = append(names, n)
	}
	sort.Strings(names)
	zw := zip.NewWriter(w)
	for _, n := range names {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: epoch})
		if err != nil {
			return err
		}
		if _, err := fw.Write(content[n]); err != nil {
			return err
		}
	}
	return zw.Close()
}

// WriteFile builds the target's package into the file name (replaced).
func WriteFile(name string, t Target, extra map[string][]byte) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := Build(f, t, extra); err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	return f.Close()
}
