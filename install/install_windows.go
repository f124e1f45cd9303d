package install

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows/registry"

	"github.com/kepkit/kep/extension"
)

// localAppData is %LOCALAPPDATA% (Home\AppData\Local when unset or when
// Home was given for a test).
func localAppData(env Env) string {
	if d := os.Getenv("LOCALAPPDATA"); d != "" && env.RegistryRoot == "" {
		return d
	}
	return filepath.Join(env.Home, "AppData", "Local")
}

func roamingAppData(env Env) string {
	if d := os.Getenv("APPDATA"); d != "" && env.RegistryRoot == "" {
		return d
	}
	return filepath.Join(env.Home, "AppData", "Roaming")
}

// browsers on Windows: the manifests sit in kep's own folder, and each
// browser finds its one through HKCU\…\NativeMessagingHosts\NAME.
func browsers(env Env) []Browser {
	local := localAppData(env)
	dir := filepath.Join(local, "kep", "native-messaging")
	b := func(name, title, profile, key string, firefox bool) Browser {
		return Browser{Name: name, Title: title, Firefox: firefox, Profile: profile, HostDir: filepath.Join(dir, name),
			RegKey: key + `\NativeMessagingHosts\` + extension.HostName}
	}
	return []Browser{
		b("google-chrome", "Google Chrome", filepath.Join(local, "Google", "Chrome", "User Data"), `Software\Google\Chrome`, false),
		b("chromium", "Chromium", filepath.Join(local, "Chromium", "User Data"), `Software\Chromium`, false),
		b("microsoft-edge", "Microsoft Edge", filepath.Join(local, "Microsoft", "Edge", "User Data"), `Software\Microsoft\Edge`, false),
		b("yandex-browser", "Yandex Browser", filepath.Join(local, "Yandex", "YandexBrowser", "User Data"), `Software\Yandex\YandexBrowser`, false),
		b("firefox", "Firefox", filepath.Join(roamingAppData(env), "Mozilla", "Firefox"), `Software\Mozilla`, true),
	}
}

func launcher(env Env) (string, []byte) {
	return filepath.Join(localAppData(env), "kep", "kep-native-host.bat"),
		[]byte("@echo off\r\nrem kep's native-messaging host, written by kep install\r\n\"" + env.Exe + "\" native-host %*\r\n")
}

func regPath(env Env, key string) string {
	if env.RegistryRoot != "" {
		return env.RegistryRoot + `\` + key
	}
	return key
}

func setRegistry(env Env, key, value string) (Action, error) {
	if got, ok := getRegistry(env, key); ok && got == value {
		return Unchanged, nil
	}
	k, existed, err := registry.CreateKey(registry.CURRENT_USER, regPath(env, key), registry.SET_VALUE)
	if err != nil {
		return "", err
	}
	defer k.Close()
	if err := k.SetStringValue("", value); err != nil {
		return "", err
	}
	if existed {
		return Updated, nil
	}
	return Created, nil
}

func deleteRegistry(env Env, key string) (Action, error) {
	err := registry.DeleteKey(registry.CURRENT_USER, regPath(env, key))
	switch {
	case err == nil:
		return Removed, nil
	case errors.Is(err, registry.ErrNotExist), errors.Is(err, os.ErrNotExist):
		return Absent, nil
	}
	return "", err
}

func getRegistry(env Env, key string) (string, bool) {
	k, err := registry.OpenKey(registry.CURRENT_USER, regPath(env, key), registry.QUERY_VALUE)
	if err != nil {
		return "", false
	}
	defer k.Close()
	v, _, err := k.GetStringValue("")
	return v, err == nil
}
