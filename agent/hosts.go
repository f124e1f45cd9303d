package agent

import (
	"context"

	"github.com/kepkit/kep/agent/diagnose"
	"github.com/kepkit/kep/install"
)

// HostRegistrations reports, per browser known on this system, whether kep
// install registered the extension's native host for this user.
func HostRegistrations(ctx context.Context) []diagnose.HostRegistration {
	sts, _ := install.HostStatuses(ctx, install.Env{})
	out := make([]diagnose.HostRegistration, 0, len(sts))
	for _, s := range sts {
		out = append(out, diagnose.HostRegistration{Browser: s.Browser.Name, Title: s.Browser.Title, Found: s.Status.Found,
			Registered: s.Status.Installed, Path: s.Status.Path, Detail: s.Status.Detail})
	}
	return out
}
