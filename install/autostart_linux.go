package install

import (
	"os"
	"path/filepath"
	"strings"
)

// The systemd user unit, enabled the way `systemctl --user enable` does it
// (a link in default.target.wants), so that no running systemd is needed to
// install it; systemd starts it at the next login.
const unitName = "kep-agent.service"

func unitPaths(env Env) (unit, wants string) {
	dir := filepath.Join(env.Home, ".config", "systemd", "user")
	return filepath.Join(dir, unitName), filepath.Join(dir, "default.target.wants", unitName)
}

// unitFile is the unit for env.Exe. ExecStart takes the path quoted (and
// % doubled: systemd expands specifiers).
func unitFile(env Env) []byte {
	exe := strings.ReplaceAll(quoteArg(env.Exe), "%", "%%")
	return []byte(`# kep's signing agent, started with the session; written by kep install
[Unit]
Description=kep signing agent (КЭП) for web pages on 127.0.0.1

[Service]
Type=simple
ExecStart=` + exe + ` ` + strings.Join(agentArgs, " ") + `
Restart=on-failure
RestartSec=5

[Install]
WantedBy=default.target
`)
}

func autostartInstall(env Env) ([]Change, error) {
	unit, wants := unitPaths(env)
	act, err := writeFile(unit, unitFile(env), 0o644)
	if err != nil {
		return nil, err
	}
	out := []Change{{Step: AutostartName, Action: act, Path: unit,
		Detail: "starts at the next login; now: systemctl --user daemon-reload && systemctl --user start " + unitName}}
	target := filepath.Join("..", unitName)
	if got, err := os.Readlink(wants); err == nil && got == target {
		return append(out, Change{Step: AutostartName, Action: Unchanged, Path: wants}), nil
	}
	if err := os.MkdirAll(filepath.Dir(wants), 0o755); err != nil {
		return out, err
	}
	_ = os.Remove(wants) // a stale link or file: replaced
	if err := os.Symlink(target, wants); err != nil {
		return out, err
	}
	return append(out, Change{Step: AutostartName, Action: Created, Path: wants, Detail: "enabled"}), nil
}

func autostartUninstall(env Env) ([]Change, error) {
	unit, wants := unitPaths(env)
	var out []Change
	for _, p := range []string{wants, unit} {
		act, err := removeFile(p)
		if err != nil {
			return out, err
		}
		out = append(out, Change{Step: AutostartName, Action: act, Path: p})
	}
	return out, nil
}

func autostartStatus(env Env) (Status, error) {
	unit, wants := unitPaths(env)
	st := Status{Step: AutostartName, Found: true, Path: unit}
	data, err := os.ReadFile(unit)
	switch {
	case err != nil:
		st.Detail = "no systemd user unit: kep install writes it"
	case string(data) != string(unitFile(env)):
		st.Detail = "the unit starts another kep or is out of date: kep install rewrites it"
	case !exists(wants):
		st.Detail = "the unit is not enabled: kep install (or systemctl --user enable " + unitName + ")"
	default:
		st.Installed = true
		st.Detail = "enabled (default.target.wants)"
	}
	return st, nil
}
