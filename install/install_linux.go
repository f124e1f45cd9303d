package install

import (
	"path/filepath"
	"strings"
)

// browsers on Linux: each one's per-user NativeMessagingHosts folder.
func browsers(env Env) []Browser {
	cfg := filepath.Join(env.Home, ".config")
	chromium := func(name, title, dir string) Browser {
		return Browser{Name: name, Title: title, Profile: filepath.Join(cfg, dir), HostDir: filepath.Join(cfg, dir, "NativeMessagingHosts")}
	}
	return []Browser{
		chromium("google-chrome", "Google Chrome", "google-chrome"),
		chromium("chromium", "Chromium", "chromium"),
		chromium("microsoft-edge", "Microsoft Edge", "microsoft-edge"),
		chromium("yandex-browser", "Yandex Browser", "yandex-browser"),
		{Name: "firefox", Title: "Firefox", Firefox: true, Profile: filepath.Join(env.Home, ".mozilla"), HostDir: filepath.Join(env.Home, ".mozilla", "native-messaging-hosts")},
	}
}

// launcher is the script the host manifests name.
func launcher(env Env) (string, []byte) {
	return filepath.Join(env.Home, ".local", "share", "kep", "kep-native-host"), shScript(env.Exe)
}

func shScript(exe string) []byte {
	return []byte("#!/bin/sh\n# kep's native-messaging host, written by kep install\nexec '" + strings.ReplaceAll(exe, "'", `'\''`) + "' native-host \"$@\"\n")
}

func setRegistry(Env, string, string) (Action, error) { return Unchanged, nil }
func deleteRegistry(Env, string) (Action, error)      { return Absent, nil }
func getRegistry(Env, string) (string, bool)          { return "", false }
