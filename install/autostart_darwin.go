package install

import (
	"html"
	"os"
	"path/filepath"
	"strings"
)

// The LaunchAgent: launchd loads ~/Library/LaunchAgents at login and runs
// the agent (RunAtLoad), again if it fails (KeepAlive on failure).
const launchLabel = "io.github.kepkit.kep.agent"

func plistPath(env Env) string {
	return filepath.Join(env.Home, "Library", "LaunchAgents", launchLabel+".plist")
}

func plistFile(env Env) []byte {
	var args strings.Builder
	for _, a := range append([]string{env.Exe}, agentArgs...) {
		args.WriteString("\t\t<string>" + html.EscapeString(a) + "</string>\n")
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- kep's signing agent, started with the session; written by kep install -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + launchLabel + `</string>
	<key>ProgramArguments</key>
	<array>
` + args.String() + `	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
</dict>
</plist>
`)
}

func autostartInstall(env Env) ([]Change, error) {
	p := plistPath(env)
	act, err := writeFile(p, plistFile(env), 0o644)
	if err != nil {
		return nil, err
	}
	return []Change{{Step: AutostartName, Action: act, Path: p,
		Detail: "starts at the next login; now: launchctl load " + p}}, nil
}

func autostartUninstall(env Env) ([]Change, error) {
	p := plistPath(env)
	act, err := removeFile(p)
	if err != nil {
		return nil, err
	}
	return []Change{{Step: AutostartName, Action: act, Path: p}}, nil
}

func autostartStatus(env Env) (Status, error) {
	p := plistPath(env)
	st := Status{Step: AutostartName, Found: true, Path: p}
	data, err := os.ReadFile(p)
	switch {
	case err != nil:
		st.Detail = "no LaunchAgent: kep install writes it"
	case string(data) != string(plistFile(env)):
		st.Detail = "the LaunchAgent starts another kep or is out of date: kep install rewrites it"
	default:
		st.Installed = true
	}
	return st, nil
}
