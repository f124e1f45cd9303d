package install

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutostartLinux: the systemd user unit starts the agent of env.Exe
// (a path with a space and a percent sign, quoted for systemd),
// is enabled through default.target.wants, passes systemd-analyze verify
// when systemd is installed, is reported, is left alone by a second
// install, rewritten for another binary, and removed by uninstall.
func TestAutostartLinux(t *testing.T) {
	home := t.TempDir()
	bin := filepath.Join(t.TempDir(), "kep 100%")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := Env{Home: home, Exe: bin}
	ctx := context.Background()
	s := autostartStep{}
	if st, _ := s.Status(ctx, env); st.Installed {
		t.Fatalf("installed before install: %+v", st)
	}
	ch, err := s.Install(ctx, env)
	if err != nil || len(ch) != 2 || ch[0].Action != Created || ch[1].Action != Created {
		t.Fatalf("install: %+v %v", ch, err)
	}
	unit, wants := unitPaths(env)
	data, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	if want := `ExecStart="` + strings.ReplaceAll(strings.ReplaceAll(bin, `"`, `\"`), "%", "%%") + `" agent`; !strings.Contains(string(data), want+"\n") {
		t.Fatalf("unit lacks %s:\n%s", want, data)
	}
	if got, err := os.Readlink(wants); err != nil || got != "../"+unitName {
		t.Fatalf("enable link %q %v", got, err)
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		// --user: the unit's own directory is searched; the binary exists.
		cmd := exec.Command(sa, "verify", "--man=no", unit)
		cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
		}
	} else {
		t.Log("systemd-analyze not installed: the unit's syntax is not checked by systemd")
	}
	if st, _ := s.Status(ctx, env); !st.Installed {
		t.Fatalf("status after install: %+v", st)
	}
	for _, c := range must(s.Install(ctx, env)) {
		if c.Action != Unchanged {
			t.Errorf("second install: %+v", c)
		}
	}
	other := Env{Home: home, Exe: "/usr/bin/kep"}
	if st, _ := s.Status(ctx, other); st.Installed {
		t.Error("the unit of another binary counts as installed")
	}
	if ch := must(s.Install(ctx, other)); ch[0].Action != Updated || ch[1].Action != Unchanged {
		t.Errorf("other binary: %+v", ch)
	}
	for _, c := range must(s.Uninstall(ctx, other)) {
		if c.Action != Removed {
			t.Errorf("uninstall: %+v", c)
		}
	}
	if exists(unit) || exists(wants) {
		t.Fatal("files left after uninstall")
	}
	for _, c := range must(s.Uninstall(ctx, other)) {
		if c.Action != Absent {
			t.Errorf("second uninstall: %+v", c)
		}
	}
}
