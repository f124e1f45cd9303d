package install

import (
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/windows/registry"
)

// The HKCU Run value: Windows starts it at every logon of the user.
const (
	runKey   = `Software\Microsoft\Windows\CurrentVersion\Run`
	runValue = "kep"
)

// runCommand is the Run value: the quoted path, then the arguments.
func runCommand(env Env) string {
	return `"` + env.Exe + `" ` + strings.Join(agentArgs, " ")
}

func autostartInstall(env Env) ([]Change, error) {
	path := `HKCU\` + regPath(env, runKey) + `\` + runValue
	k, _, err := registry.CreateKey(registry.CURRENT_USER, regPath(env, runKey), registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	want := runCommand(env)
	got, _, err := k.GetStringValue(runValue)
	if err == nil && got == want {
		return []Change{{Step: AutostartName, Action: Unchanged, Path: path}}, nil
	}
	act := Created
	if err == nil {
		act = Updated
	}
	if err := k.SetStringValue(runValue, want); err != nil {
		return nil, err
	}
	return []Change{{Step: AutostartName, Action: act, Path: path, Detail: "starts at the next logon"}}, nil
}

func autostartUninstall(env Env) ([]Change, error) {
	path := `HKCU\` + regPath(env, runKey) + `\` + runValue
	k, err := registry.OpenKey(registry.CURRENT_USER, regPath(env, runKey), registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) || errors.Is(err, os.ErrNotExist) {
		return []Change{{Step: AutostartName, Action: Absent, Path: path}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer k.Close()
	err = k.DeleteValue(runValue)
	switch {
	case err == nil:
		return []Change{{Step: AutostartName, Action: Removed, Path: path}}, nil
	case errors.Is(err, registry.ErrNotExist), errors.Is(err, os.ErrNotExist):
		return []Change{{Step: AutostartName, Action: Absent, Path: path}}, nil
	}
	return nil, err
}

func autostartStatus(env Env) (Status, error) {
	st := Status{Step: AutostartName, Found: true, Path: `HKCU\` + regPath(env, runKey) + `\` + runValue}
	k, err := registry.OpenKey(registry.CURRENT_USER, regPath(env, runKey), registry.QUERY_VALUE)
	if err != nil {
		st.Detail = "no Run value: kep install writes it"
		return st, nil
	}
	defer k.Close()
	got, _, err := k.GetStringValue(runValue)
	switch {
	case err != nil:
		st.Detail = "no Run value: kep install writes it"
	case got != runCommand(env):
		st.Detail = "the Run value starts another kep (" + got + "): kep install rewrites it"
	default:
		st.Installed = true
	}
	return st, nil
}
