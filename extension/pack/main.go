// Command pack builds kep's browser extension packages:
//
//	go run ./extension/pack -o bin
//
// writes bin/kep-extension-chromium.zip (Chrome Web Store, Edge Add-ons,
// Yandex catalogue) and bin/kep-extension-firefox.xpi. The compatibility
// layer agent/client/cadesplugin.js goes in when it exists, with the
// agent/client/kep.js it imports from the extension.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kepkit/kep/extension"
)

func main() {
	out := flag.String("o", "bin", "output directory")
	cades := flag.String("cadesplugin", "agent/client/cadesplugin.js", "cadesplugin.js to include when it exists")
	kepjs := flag.String("kepjs", "agent/client/kep.js", "kep.js to include with cadesplugin.js (which imports it from the extension)")
	flag.Parse()
	extra := map[string][]byte{}
	if data, err := os.ReadFile(*cades); err == nil {
		extra["cadesplugin.js"] = data
		if extra["kep.js"], err = os.ReadFile(*kepjs); err != nil {
			fail(err)
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fail(err)
	}
	for name, t := range map[string]extension.Target{"kep-extension-chromium.zip": extension.Chromium, "kep-extension-firefox.xpi": extension.Firefox} {
		p := filepath.Join(*out, name)
		if err := extension.WriteFile(p, t, extra); err != nil {
			fail(err)
		}
		fmt.Println(p)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pack:", err)
	os.Exit(1)
}
