// Package install registers kep with the user's desktop session, per user
// and without administrator rights: `kep install` and `kep uninstall`.
//
// The work is a list of steps, each with Install, Uninstall and Status, run
// in order. Every step is idempotent: installing twice changes nothing the
// second time and says so, uninstalling what is not there is not an error.
// This package's own steps register kep's native-messaging host (`kep
// native-host`) for every browser found: the host's launcher, then one host
// manifest per browser (and, on Windows, the registry value that points to
// it), allowing exactly kep's extension (extension.ChromeOrigin,
// extension.FirefoxID). Other files of this package add their own steps by
// calling register from init; the per-OS parts live in files named
// *_linux.go, *_windows.go and *_darwin.go behind the same functions.
//
// Warning: a step writes into the user's browser profiles and (on Windows)
// HKCU. Tests pass an Env whose Home is a temporary directory; on Windows
// the registry is the real one, so tests there set Env.RegistryRoot.
package install

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Env is the user's environment the steps work in. Zero fields take the
// current user's values (Defaults).
type Env struct {
	// Home is the user's home directory.
	Home string
	// Exe is the kep binary the registrations start.
	Exe string
	// AllBrowsers registers the host for every known browser, not only
	// those whose profile directory exists.
	AllBrowsers bool
	// RegistryRoot (Windows only) is the HKCU subkey under which the
	// browsers' keys are written ("" is HKCU itself): for tests.
	RegistryRoot string
	// Only, when set, limits Install, Uninstall and Statuses to the steps
	// whose name starts with it ("native-host": the browser registration).
	Only string
}

// Defaults fills the zero fields of env from the current user and process.
func (env Env) Defaults() (Env, error) {
	var err error
	if env.Home == "" {
		if env.Home, err = os.UserHomeDir(); err != nil {
			return env, err
		}
	}
	if env.Exe == "" {
		if env.Exe, err = os.Executable(); err != nil {
			return env, err
		}
		if p, err := filepath.EvalSymlinks(env.Exe); err == nil {
			env.Exe = p
		}
	}
	return env, nil
}

// Action says what a step did.
type Action string

const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
	Removed   Action = "removed"
	Absent    Action = "absent" // nothing to remove
	Skipped   Action = "skipped"
)

// Change is one thing a step did (or found already done).
type Change struct {
	Step   string `json:"step"`
	Action Action `json:"action"`
	Path   string `json:"path,omitempty"` // file or registry key
	Detail string `json:"detail,omitempty"`
}

// Status is what a step finds installed.
type Status struct {
	Step      string `json:"step"`
	Installed bool   `json:"installed"`
	// Found is false when the thing the step serves (a browser) is not on
	// this machine.
	Found  bool   `json:"found"`
	Path   string `json:"path,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Step is one registration.
type Step interface {
	Name() string
	Install(ctx context.Context, env Env) ([]Change, error)
	Uninstall(ctx context.Context, env Env) ([]Change, error)
	Status(ctx context.Context, env Env) (Status, error)
}

type provider struct {
	order int
	steps func(Env) []Step
}

var (
	providersMu sync.Mutex
	providers   []provider
)

// register adds a provider of steps; lower order runs first (the native
// host uses 100 and 110). Called from init functions only.
func register(order int, steps func(Env) []Step) {
	providersMu.Lock()
	defer providersMu.Unlock()
	providers = append(providers, provider{order, steps})
	sort.SliceStable(providers, func(i, j int) bool { return providers[i].order < providers[j].order })
}

// Steps returns every step for env, in the order they install.
func Steps(env Env) []Step {
	providersMu.Lock()
	ps := append([]provider(nil), providers...)
	providersMu.Unlock()
	var out []Step
	for _, p := range ps {
		for _, s := range p.steps(env) {
			if strings.HasPrefix(s.Name(), env.Only) {
				out = append(out, s)
			}
		}
	}
	return out
}

// Install runs every step's Install; it goes on after a failing step and
// returns all the errors joined.
func Install(ctx context.Context, env Env) ([]Change, error) {
	env, err := env.Defaults()
	if err != nil {
		return nil, err
	}
	return each(ctx, env, Steps(env), Step.Install)
}

// Uninstall runs every step's Uninstall, last step first.
func Uninstall(ctx context.Context, env Env) ([]Change, error) {
	env, err := env.Defaults()
	if err != nil {
		return nil, err
	}
	steps := Steps(env)
	for i, j := 0, len(steps)-1; i < j; i, j = i+1, j-1 {
		steps[i], steps[j] = steps[j], steps[i]
	}
	return each(ctx, env, steps, Step.Uninstall)
}

// Statuses reports every step.
func Statuses(ctx context.Context, env Env) ([]Status, error) {
	env, err := env.Defaults()
	if err != nil {
		return nil, err
	}
	var out []Status
	var errs []error
	for _, s := range Steps(env) {
		st, err := s.Status(ctx, env)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
		}
		out = append(out, st)
	}
	return out, errors.Join(errs...)
}

func each(ctx context.Context, env Env, steps []Step, f func(Step, context.Context, Env) ([]Change, error)) ([]Change, error) {
	var out []Change
	var errs []error
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		ch, err := f(s, ctx, env)
		out = append(out, ch...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
		}
	}
	return out, errors.Join(errs...)
}

// writeFile writes data to path (made with its directories) unless it
// already holds exactly that; it says which.
func writeFile(path string, data []byte, mode os.FileMode) (Action, error) {
	old, err := os.ReadFile(path)
	if err == nil && string(old) == string(data) {
		// Windows has no permission bits: Go reports 0666 (0444 read-only)
		// whatever was asked, so there the content alone decides; found
		// under Wine, where every kep install rewrote every file.
		if fi, err := os.Stat(path); err == nil && (fi.Mode().Perm() == mode || runtime.GOOS == "windows") {
			return Unchanged, nil
		}
	}
	act := Created
	if err == nil {
		act = Updated
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return "", err
	}
	os.Chmod(tmp, mode)
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return act, nil
}

// removeFile removes path; a missing one is Absent.
func removeFile(path string) (Action, error) {
	err := os.Remove(path)
	switch {
	case err == nil:
		return Removed, nil
	case errors.Is(err, os.ErrNotExist):
		return Absent, nil
	}
	return "", err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
