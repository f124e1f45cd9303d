package install

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/kepkit/kep/extension"
)

// Browser is a browser kep's native-messaging host is registered for.
type Browser struct {
	Name    string // "google-chrome", "chromium", "microsoft-edge", "yandex-browser", "firefox"
	Title   string
	Firefox bool
	// Profile is the browser's user directory: the browser is found when
	// it exists.
	Profile string
	// HostDir is where the host manifest goes.
	HostDir string
	// RegKey (Windows) is the HKCU key the manifest's path is written
	// under, as its default value.
	RegKey string
}

// ManifestPath is the browser's host manifest file.
func (b Browser) ManifestPath() string {
	return filepath.Join(b.HostDir, extension.HostName+".json")
}

// Browsers lists the browsers known on this operating system, found or not.
func Browsers(env Env) []Browser { return browsers(env) }

// HostStatus is the native host's registration for one browser.
type HostStatus struct {
	Browser Browser
	Status  Status
}

// HostStatuses reports the native host's registration per known browser.
func HostStatuses(ctx context.Context, env Env) ([]HostStatus, error) {
	env, err := env.Defaults()
	if err != nil {
		return nil, err
	}
	var out []HostStatus
	for _, b := range browsers(env) {
		st, err := hostStep{b}.Status(ctx, env)
		if err != nil {
			return out, err
		}
		out = append(out, HostStatus{b, st})
	}
	return out, nil
}

func init() {
	register(100, func(env Env) []Step { return []Step{launcherStep{}} })
	register(110, func(env Env) []Step {
		var out []Step
		for _, b := range browsers(env) {
			out = append(out, hostStep{b})
		}
		return out
	})
}

// HostManifest is the JSON a browser reads to start kep's host.
func HostManifest(b Browser, launcher string) ([]byte, error) {
	m := map[string]any{
		"name":        extension.HostName,
		"description": "kep — КЭП: the native side of kep's browser extension",
		"path":        launcher,
		"type":        "stdio",
	}
	if b.Firefox {
		m["allowed_extensions"] = []string{extension.FirefoxID}
	} else {
		m["allowed_origins"] = []string{extension.ChromeOrigin}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	return append(data, '\n'), err
}

// launcherStep writes the program the browsers start: a manifest's path
// takes no arguments, so a small script runs `kep native-host` with the
// browser's arguments.
type launcherStep struct{}

func (launcherStep) Name() string { return "native-host launcher" }

func (s launcherStep) Install(_ context.Context, env Env) ([]Change, error) {
	path, data := launcher(env)
	act, err := writeFile(path, data, 0o755)
	if err != nil {
		return nil, err
	}
	return []Change{{Step: s.Name(), Action: act, Path: path, Detail: "runs " + env.Exe + " native-host"}}, nil
}

func (s launcherStep) Uninstall(_ context.Context, env Env) ([]Change, error) {
	path, _ := launcher(env)
	act, err := removeFile(path)
	if err != nil {
		return nil, err
	}
	// The launcher's folder is kep's own (%LOCALAPPDATA%\kep,
	// ~/.local/share/kep): gone with it when nothing else is left there.
	return append([]Change{{Step: s.Name(), Action: act, Path: path}}, removeEmptyDirs(s.Name(), filepath.Dir(path))...), nil
}

func (s launcherStep) Status(_ context.Context, env Env) (Status, error) {
	path, want := launcher(env)
	st := Status{Step: s.Name(), Found: true, Path: path}
	got, err := os.ReadFile(path)
	switch {
	case err != nil:
		st.Detail = "not installed"
	case string(got) != string(want):
		st.Detail = "installed for another kep binary: run kep install again"
	default:
		st.Installed = true
	}
	return st, nil
}

// hostStep registers the host for one browser.
type hostStep struct{ b Browser }

func (s hostStep) Name() string { return "native-host " + s.b.Name }

func (s hostStep) Install(_ context.Context, env Env) ([]Change, error) {
	if !env.AllBrowsers && !exists(s.b.Profile) {
		return []Change{{Step: s.Name(), Action: Skipped, Detail: s.b.Title + " not found (" + s.b.Profile + ")"}}, nil
	}
	path, _ := launcher(env)
	data, err := HostManifest(s.b, path)
	if err != nil {
		return nil, err
	}
	act, err := writeFile(s.b.ManifestPath(), data, 0o644)
	if err != nil {
		return nil, err
	}
	out := []Change{{Step: s.Name(), Action: act, Path: s.b.ManifestPath(), Detail: s.b.Title}}
	if s.b.RegKey != "" {
		ract, err := setRegistry(env, s.b.RegKey, s.b.ManifestPath())
		if err != nil {
			return out, err
		}
		out = append(out, Change{Step: s.Name(), Action: ract, Path: `HKCU\` + s.b.RegKey, Detail: s.b.Title})
	}
	return out, nil
}

func (s hostStep) Uninstall(_ context.Context, env Env) ([]Change, error) {
	var out []Change
	if s.b.RegKey != "" {
		ract, err := deleteRegistry(env, s.b.RegKey)
		if err != nil {
			return nil, err
		}
		out = append(out, Change{Step: s.Name(), Action: ract, Path: `HKCU\` + s.b.RegKey})
	}
	act, err := removeFile(s.b.ManifestPath())
	if err != nil {
		return out, err
	}
	out = append(out, Change{Step: s.Name(), Action: act, Path: s.b.ManifestPath()})
	if s.b.RegKey != "" {
		// Where the registry names the manifest (Windows) it sits in kep's
		// own folder, …\kep\native-messaging\<browser>: those folders go
		// too when empty. Elsewhere the folder is the browser's.
		out = append(out, removeEmptyDirs(s.Name(), s.b.HostDir, filepath.Dir(s.b.HostDir))...)
	}
	return out, nil
}

// removeEmptyDirs removes each folder in turn while it is empty (os.Remove
// refuses one that is not), reporting those removed.
func removeEmptyDirs(step string, dirs ...string) []Change {
	var out []Change
	for _, d := range dirs {
		if os.Remove(d) != nil {
			break
		}
		out = append(out, Change{Step: step, Action: Removed, Path: d})
	}
	return out
}

func (s hostStep) Status(_ context.Context, env Env) (Status, error) {
	st := Status{Step: s.Name(), Found: exists(s.b.Profile), Path: s.b.ManifestPath()}
	launch, _ := launcher(env)
	data, err := os.ReadFile(s.b.ManifestPath())
	if err != nil {
		st.Detail = "host not registered"
		return st, nil
	}
	var m struct {
		Name              string   `json:"name"`
		Path              string   `json:"path"`
		AllowedOrigins    []string `json:"allowed_origins"`
		AllowedExtensions []string `json:"allowed_extensions"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		st.Detail = "host manifest unreadable: " + err.Error()
		return st, nil
	}
	allowed := slices.Equal(m.AllowedOrigins, []string{extension.ChromeOrigin})
	if s.b.Firefox {
		allowed = slices.Equal(m.AllowedExtensions, []string{extension.FirefoxID})
	}
	switch {
	case m.Name != extension.HostName || !allowed:
		st.Detail = "host manifest names another host or extension"
	case m.Path != launch:
		st.Detail = fmt.Sprintf("host manifest starts %s, not this kep's launcher %s", m.Path, launch)
	case !exists(launch):
		st.Detail = "the launcher " + launch + " is missing"
	default:
		if s.b.RegKey != "" {
			if got, ok := getRegistry(env, s.b.RegKey); !ok || got != s.b.ManifestPath() {
				st.Detail = `registry HKCU\` + s.b.RegKey + " does not point to the manifest"
				return st, nil
			}
		}
		st.Installed = true
	}
	return st, nil
}
