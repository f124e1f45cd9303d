//go:build !linux && !darwin && !windows

package install

import "path/filepath"

// browsers: none known on this operating system (the BSDs put Chromium's
// folders where Linux does, but kep does not promise them yet).
func browsers(Env) []Browser { return nil }

func launcher(env Env) (string, []byte) {
	return filepath.Join(env.Home, ".local", "share", "kep", "kep-native-host"), []byte("#!/bin/sh\nexec '" + env.Exe + "' native-host \"$@\"\n")
}

func setRegistry(Env, string, string) (Action, error) { return Unchanged, nil }
func deleteRegistry(Env, string) (Action, error)      { return Absent, nil }
func getRegistry(Env, string) (string, bool)          { return "", false }
