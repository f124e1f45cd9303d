package pkcs11

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Source says where Discover found a module path.
type Source string

// The sources, in the order Discover tries them.
const (
	SourceExplicit  Source = "explicit"   // Discovery.Paths
	SourceConfig    Source = "config"     // the modules.json file
	SourceWellKnown Source = "well-known" // a vendor library at its usual place
)

// ModuleStatus is what Discover found about one module.
type ModuleStatus struct {
	Path   string
	Source Source
	Vendor string // for well-known modules: "Rutoken", "JaCarta", "SafeNet eToken", "OpenSC", "SoftHSM2", "p11-kit"
	// Loaded reports that the library loaded and initialised; Info and
	// Tokens are then filled in.
	Loaded bool
	Info   LibraryInfo
	Tokens []TokenInfo
	// Err says why the module could not be used: ErrModuleLoad with the
	// loader's message (missing file, wrong architecture, missing
	// dependency, not a PKCS#11 library), a failed C_Initialize,
	// ErrCryptokiNeedsCgo, or a config file that does not parse (Path is
	// then the config file).
	Err error
}

// Discovery says where to look for PKCS#11 modules. The zero value looks
// in the user's config file and at the well-known vendor paths.
type Discovery struct {
	// Paths are modules to try first, e.g. given on the command line.
	Paths []string
	// ConfigFile is the JSON list of module paths; DefaultConfigFile()
	// when empty. A missing file is not an error.
	ConfigFile string
	// NoConfig skips the config file, NoWellKnown the vendor paths.
	NoConfig, NoWellKnown bool
}

// Discover is Discovery{}.Discover.
func Discover(ctx context.Context) []ModuleStatus { return Discovery{}.Discover(ctx) }

// Discover loads every module it finds, lists its tokens, closes it again
// and reports one status per module: explicit paths and the config file's
// paths always (a missing file is reported), well-known paths only when the
// file exists. A library reached by two paths (a symbolic link) is
// reported once. Loading a module runs its code in this process; every
// well-known path is a vendor's install location.
func (d Discovery) Discover(ctx context.Context) []ModuleStatus {
	var out []ModuleStatus
	seen := map[string]bool{}
	try := func(path string, src Source, vendor string) {
		key := moduleKey(path)
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, probe(ctx, path, src, vendor))
	}
	for _, p := range d.Paths {
		try(p, SourceExplicit, "")
	}
	if !d.NoConfig {
		file := d.ConfigFile
		var err error
		if file == "" {
			file, err = DefaultConfigFile()
		}
		var paths []string
		if err == nil {
			paths, err = ReadConfig(file)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			out = append(out, ModuleStatus{Path: file, Source: SourceConfig, Err: err})
		}
		for _, p := range paths {
			try(p, SourceConfig, "")
		}
	}
	if !d.NoWellKnown {
		for _, c := range wellKnown(runtime.GOOS, runtime.GOARCH, os.Getenv) {
			if _, err := os.Stat(c.path); err == nil {
				try(c.path, SourceWellKnown, c.vendor)
			}
		}
	}
	return out
}

// probe opens one module, reads its description and tokens, and closes it.
func probe(ctx context.Context, path string, src Source, vendor string) ModuleStatus {
	st := ModuleStatus{Path: path, Source: src, Vendor: vendor}
	if strings.ContainsAny(path, `/\`) {
		if _, err := os.Stat(path); err != nil {
			st.Err = fmt.Errorf("%w %s: %w", ErrModuleLoad, path, err)
			return st
		}
	}
	m, err := Open(ctx, path)
	if err != nil {
		st.Err = err
		return st
	}
	st.Loaded = true
	if st.Info, err = m.Info(ctx); err == nil {
		st.Tokens, err = m.Tokens(ctx)
	}
	st.Err = errors.Join(err, m.Close())
	return st
}

// DefaultConfigFile returns the path of the user's module list:
// kep/modules.json in os.UserConfigDir ($XDG_CONFIG_HOME or ~/.config on
// Linux, ~/Library/Application Support on macOS, %AppData% on Windows).
func DefaultConfigFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "modules.json"), nil
}

// ReadConfig reads a module list: a JSON array of strings, each a full
// path, a path relative to the file's directory, or a bare library name the
// system loader searches for, e.g.
//
//	["/opt/aktivco/rutokenecp/x86_64/librtpkcs11ecp.so", "libvendor-pkcs11.so"]
func ReadConfig(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("pkcs11: module list %s is over 1 MiB", file)
	}
	var paths []string
	if err := json.Unmarshal(data, &paths); err != nil {
		return nil, fmt.Errorf("pkcs11: module list %s: want a JSON array of paths: %w", file, err)
	}
	for i, p := range paths {
		switch {
		case p == "":
			return nil, fmt.Errorf("pkcs11: module list %s: entry %d is empty", file, i+1)
		case strings.ContainsAny(p, `/\`) && !filepath.IsAbs(p):
			paths[i] = filepath.Join(filepath.Dir(file), p)
		}
	}
	return paths, nil
}

type candidate struct{ vendor, path string }

// wellKnown lists the usual install locations of the vendor modules on
// goos/goarch, most specific first.
func wellKnown(goos, goarch string, getenv func(string) string) []candidate {
	var out []candidate
	add := func(vendor string, paths ...string) {
		for _, p := range paths {
			out = append(out, candidate{vendor, p})
		}
	}
	switch goos {
	case "windows":
		// Joined by hand: the list is the same whatever the host's separator.
		sys := cmp.Or(getenv("SystemRoot"), `C:\Windows`) + `\System32`
		pf := cmp.Or(getenv("ProgramFiles"), `C:\Program Files`)
		add("Rutoken", sys+`\rtPKCS11ECP.dll`)
		add("JaCarta", sys+`\jcPKCS11-2.dll`)
		add("SafeNet eToken", sys+`\eTPKCS11.dll`)
		add("OpenSC", pf+`\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll`, sys+`\opensc-pkcs11.dll`)
		add("SoftHSM2", `C:\SoftHSM2\lib\softhsm2-x64.dll`, `C:\SoftHSM2\lib\softhsm2.dll`)
	case "darwin":
		add("Rutoken", "/Library/Frameworks/rtpkcs11ecp.framework/rtpkcs11ecp", "/usr/local/lib/librtpkcs11ecp.dylib")
		add("JaCarta", "/Library/Frameworks/jcPKCS11-2.framework/jcPKCS11-2", "/usr/local/lib/libjcPKCS11-2.dylib")
		add("SafeNet eToken", "/usr/local/lib/libeTPkcs11.dylib")
		add("OpenSC", "/Library/OpenSC/lib/opensc-pkcs11.so", "/opt/homebrew/lib/opensc-pkcs11.so", "/usr/local/lib/opensc-pkcs11.so")
		add("SoftHSM2", "/opt/homebrew/lib/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so")
		add("p11-kit", "/opt/homebrew/lib/p11-kit-proxy.dylib", "/usr/local/lib/p11-kit-proxy.dylib")
	default: // Linux and the BSDs
		var dirs []string
		if t := multiarch[goarch]; t != "" && goos == "linux" {
			dirs = append(dirs, "/usr/lib/"+t)
		}
		dirs = append(dirs, "/usr/lib64", "/usr/lib", "/usr/local/lib")
		in := func(sub, name string) []string {
			var ps []string
			for _, d := range dirs {
				ps = append(ps, filepath.Join(d, sub, name))
			}
			return ps
		}
		rutoken := in("", "librtpkcs11ecp.so")
		for _, a := range rutokenArch[goarch] {
			rutoken = append(rutoken, "/opt/aktivco/rutokenecp/"+a+"/librtpkcs11ecp.so")
		}
		add("Rutoken", rutoken...)
		add("JaCarta", append(in("", "libjcPKCS11-2.so"), in("pkcs11", "libjcPKCS11-2.so")...)...)
		add("SafeNet eToken", in("", "libeTPkcs11.so")...)
		add("OpenSC", append(in("", "opensc-pkcs11.so"), in("pkcs11", "opensc-pkcs11.so")...)...)
		add("SoftHSM2", append(in("softhsm", "libsofthsm2.so"), in("pkcs11", "libsofthsm2.so")...)...)
		add("p11-kit", in("", "p11-kit-proxy.so")...)
	}
	return out
}

// multiarch maps GOARCH to the Debian multiarch directory name.
var multiarch = map[string]string{
	"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu", "386": "i386-linux-gnu",
	"arm": "arm-linux-gnueabihf", "ppc64le": "powerpc64le-linux-gnu", "riscv64": "riscv64-linux-gnu",
}

// rutokenArch maps GOARCH to the directories of Aktiv's Linux packages.
var rutokenArch = map[string][]string{
	"amd64": {"x86_64", "amd64"}, "386": {"i386"},
}
