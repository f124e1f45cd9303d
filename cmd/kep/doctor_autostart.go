package main

import (
	"context"

	"github.com/kepkit/kep/agent/diagnose"
	"github.com/kepkit/kep/install"
)

// autostartFindings says whether `kep install` set the agent to start with
// the session (the systemd user unit, LaunchAgent or HKCU Run value), for
// kep doctor: AUTOSTART_INSTALLED (info) or AUTOSTART_NOT_INSTALLED
// (warning: sites find no agent after the next login until it is started).
func autostartFindings(ctx context.Context) []diagnose.Finding {
	sts, _ := install.Statuses(ctx, install.Env{})
	for _, st := range sts {
		if st.Step != install.AutostartName {
			continue
		}
		ev := map[string]any{"path": st.Path, "detail": st.Detail}
		if st.Installed {
			return []diagnose.Finding{{Code: "AUTOSTART_INSTALLED", Severity: diagnose.Info,
				Message:   "the agent starts with the session (" + st.Path + ")",
				MessageRU: "агент запускается при входе в систему (" + st.Path + ")", Evidence: ev}}
		}
		return []diagnose.Finding{{Code: "AUTOSTART_NOT_INSTALLED", Severity: diagnose.Warning,
			Message:   "the agent does not start with the session: " + st.Detail,
			MessageRU: "агент не запускается при входе в систему: " + st.Detail,
			Fix:       "run kep install", FixRU: "выполните kep install", Evidence: ev}}
	}
	return nil
}
