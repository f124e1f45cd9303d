package install

import (
	"path/filepath"
	"strings"
)

// browsers on macOS: NativeMessagingHosts in each one's Application Support
// folder.
func browsers(env Env) []Browser {
	as := filepath.Join(env.Home, "Library", "Application Support")
	chromium := func(name, title string, dir ...string) Browser {
		p := filepath.Join(append([]string{as}, dir...)...)
		return Browser{Name: name, Title: title, Profile: p, HostDir: filepath.Join(p, "NativeMessagingHosts")}
	}
	return []Browser{
		chromium("google-chrome", "Google Chrome", "Google", "Chrome"),
		chromium("chromium", "Chromium", "Chromium"),
		chromium("microsoft-edge", "Microsoft Edge", "Microsoft Edge"),
		chromium("yandex-browser", "Yandex Browser", "Yandex", "YandexBrowser"),
		{Name: "firefox", Title: "Firefox", Firefox: true, Profile: filepath.Join(as, "Firefox"), HostDir: filepath.Join(as, "Mozilla", "NativeMessagingHosts")},
	}
}

func launcher(env Env) (string, []byte) {
	return filepath.Join(env.Home, "Library", "Application Support", "kep", "kep-native-host"),
		[]byte("#!/bin/sh\n# kep's native-messaging host, written by kep install\nexec '" + strings.ReplaceAll(env.Exe, "'", `'\''`) + "' native-host \"$@\"\n")
}

func setRegistry(Env, string, string) (Action, error) { return Unchanged, nil }
func deleteRegistry(Env, string) (Action, error)      { return Absent, nil }
func getRegistry(Env, string) (string, bool)          { return "", false }
