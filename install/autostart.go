package install

import (
	"context"
	"strings"
)

// The agent started with the user's session: a systemd user unit on Linux
// (autostart_linux.go), a LaunchAgent on macOS (autostart_darwin.go), the
// HKCU Run value on Windows (autostart_windows.go). Each OS file provides
// autostartInstall, autostartUninstall and autostartStatus. The agent
// starts at the next login; `kep install` says how to start it now.

// AutostartName is the step's name in changes and statuses.
const AutostartName = "autostart"

func init() {
	register(200, func(Env) []Step { return []Step{autostartStep{}} })
}

type autostartStep struct{}

func (autostartStep) Name() string { return AutostartName }

func (autostartStep) Install(ctx context.Context, env Env) ([]Change, error) {
	return autostartInstall(env)
}

func (autostartStep) Uninstall(ctx context.Context, env Env) ([]Change, error) {
	return autostartUninstall(env)
}

func (autostartStep) Status(ctx context.Context, env Env) (Status, error) {
	return autostartStatus(env)
}

// agentArgs is what the session starts: kep agent, with its defaults (the
// user's kep/agent.json holds the rest).
var agentArgs = []string{"agent"}

// quoteArg quotes s for a command line whose parser understands double
// quotes with backslash escapes (systemd's ExecStart, Windows' Run value for
// a path without quotes in it).
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"\\'%$") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}
