package install

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/extension"
)

func actions(ch []Change) map[string]Action {
	out := map[string]Action{}
	for _, c := range ch {
		out[c.Step] = c.Action
	}
	return out
}

// TestInstallLinux: in a home with Chromium and Firefox only, kep install
// registers the host for those two, exactly kep's extension allowed; a
// second run changes nothing; uninstall removes it all; a second uninstall
// finds nothing.
func TestInstallLinux(t *testing.T) {
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".config", "chromium"), 0o755)
	os.MkdirAll(filepath.Join(home, ".mozilla"), 0o755)
	env := Env{Home: home, Exe: "/opt/kep it's/kep"}
	ctx := context.Background()

	ch, err := Install(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Action{"native-host launcher": Created, "native-host chromium": Created, "native-host firefox": Created,
		"native-host google-chrome": Skipped, "native-host microsoft-edge": Skipped, "native-host yandex-browser": Skipped,
		AutostartName: Created}
	if got := actions(ch); len(got) != len(want) {
		t.Fatalf("changes %v", ch)
	} else {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s, want %s", k, got[k], v)
			}
		}
	}
	var m map[string]any
	data, _ := os.ReadFile(filepath.Join(home, ".config", "chromium", "NativeMessagingHosts", extension.HostName+".json"))
	json.Unmarshal(data, &m)
	launcherPath := filepath.Join(home, ".local", "share", "kep", "kep-native-host")
	if m["name"] != extension.HostName || m["type"] != "stdio" || m["path"] != launcherPath ||
		len(m["allowed_origins"].([]any)) != 1 || m["allowed_origins"].([]any)[0] != extension.ChromeOrigin || m["allowed_extensions"] != nil {
		t.Errorf("chromium manifest %s", data)
	}
	data, _ = os.ReadFile(filepath.Join(home, ".mozilla", "native-messaging-hosts", extension.HostName+".json"))
	m = nil
	json.Unmarshal(data, &m)
	if ae, _ := m["allowed_extensions"].([]any); len(ae) != 1 || ae[0] != extension.FirefoxID || m["allowed_origins"] != nil {
		t.Errorf("firefox manifest %s", data)
	}
	// The launcher runs the binary with the browser's arguments, quoted.
	out, err := exec.Command("sh", "-n", launcherPath).CombinedOutput()
	if err != nil {
		t.Fatalf("launcher: %v %s", err, out)
	}
	if script, _ := os.ReadFile(launcherPath); !strings.Contains(string(script), `exec '/opt/kep it'\''s/kep' native-host "$@"`) {
		t.Errorf("launcher %s", script)
	}

	sts, err := Statuses(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		wantInst := st.Step == "native-host launcher" || st.Step == "native-host chromium" || st.Step == "native-host firefox" || st.Step == AutostartName
		if st.Installed != wantInst {
			t.Errorf("status %+v", st)
		}
	}

	ch, err = Install(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ch {
		if c.Action != Unchanged && c.Action != Skipped {
			t.Errorf("second install: %+v", c)
		}
	}
	// Another binary: the launcher is updated, the manifests stay.
	env2 := Env{Home: home, Exe: "/usr/bin/kep"}
	if st, _ := (launcherStep{}).Status(ctx, env2); st.Installed {
		t.Error("the launcher of another binary counts as installed")
	}
	if a := actions(must(Install(ctx, env2))); a["native-host launcher"] != Updated || a["native-host chromium"] != Unchanged {
		t.Errorf("other binary: %v", a)
	}

	ch, err = Uninstall(ctx, env2)
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(ch); a["native-host launcher"] != Removed || a["native-host chromium"] != Removed || a["native-host firefox"] != Removed || a["native-host google-chrome"] != Absent {
		t.Errorf("uninstall %v", a)
	}
	if ch[len(ch)-1].Step != "native-host launcher" {
		t.Errorf("the launcher is not removed last: %v", ch)
	}
	// kep's own folder goes with the launcher when nothing else is in it.
	if launch, _ := launcher(env2); exists(filepath.Dir(launch)) || ch[len(ch)-1].Path != filepath.Dir(launch) {
		t.Errorf("the launcher's empty folder %s is left (or not reported): %v", filepath.Dir(launch), ch[len(ch)-1])
	}
	for _, c := range must(Uninstall(ctx, env2)) {
		if c.Action != Absent {
			t.Errorf("second uninstall: %+v", c)
		}
	}
	// --all-browsers registers every known browser.
	if a := actions(must(Install(ctx, Env{Home: home, Exe: "/usr/bin/kep", AllBrowsers: true}))); a["native-host yandex-browser"] != Created {
		t.Errorf("all browsers: %v", a)
	}
}

// TestStatusStale: a manifest of another host, or one pointing elsewhere,
// is not counted as registered.
func TestStatusStale(t *testing.T) {
	home := t.TempDir()
	env := Env{Home: home, Exe: "/usr/bin/kep"}
	b := browsers(env)[1] // chromium
	os.MkdirAll(b.HostDir, 0o755)
	must(Install(context.Background(), Env{Home: home, Exe: "/usr/bin/kep", AllBrowsers: true}))
	for name, manifest := range map[string]string{
		"other extension": `{"name":"` + extension.HostName + `","path":"x","type":"stdio","allowed_origins":["chrome-extension://aaaa/"]}`,
		"other launcher":  `{"name":"` + extension.HostName + `","path":"/tmp/evil","type":"stdio","allowed_origins":["` + extension.ChromeOrigin + `"]}`,
		"garbage":         `{`,
	} {
		os.WriteFile(b.ManifestPath(), []byte(manifest), 0o644)
		if st, _ := (hostStep{b}).Status(context.Background(), env); st.Installed || st.Detail == "" {
			t.Errorf("%s: %+v", name, st)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestOnly: Env.Only keeps the steps whose name starts with it.
func TestOnly(t *testing.T) {
	env := Env{Home: t.TempDir(), Exe: "/usr/bin/kep", Only: "native-host"}
	steps := Steps(env)
	if len(steps) != 1+len(browsers(env)) {
		t.Fatalf("%d steps", len(steps))
	}
	for _, s := range steps {
		if !strings.HasPrefix(s.Name(), "native-host") {
			t.Errorf("step %s kept", s.Name())
		}
	}
	if all := Steps(Env{Home: env.Home, Exe: env.Exe}); len(all) < len(steps) {
		t.Errorf("without Only: %d steps", len(all))
	}
}

// TestUninstallKeepsOwnFolderInUse: kep uninstall removes kep's folder only
// when empty; the user's other files there (a software token) stay.
func TestUninstallKeepsOwnFolderInUse(t *testing.T) {
	home := t.TempDir()
	env := Env{Home: home, Exe: "/usr/bin/kep"}
	must(Install(context.Background(), env))
	launch, _ := launcher(env)
	keep := filepath.Join(filepath.Dir(launch), "soft", "token.json")
	os.MkdirAll(filepath.Dir(keep), 0o700)
	os.WriteFile(keep, []byte("{}"), 0o600)
	for _, c := range must(Uninstall(context.Background(), env)) {
		if c.Path == filepath.Dir(launch) {
			t.Errorf("reported removing a folder in use: %+v", c)
		}
	}
	if !exists(keep) || exists(launch) {
		t.Errorf("after uninstall: launcher there %v, the user's file there %v", exists(launch), exists(keep))
	}
}
