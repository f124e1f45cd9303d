package diagnose

import (
	"net"
	"path/filepath"
	"testing"
)

func TestExtensionFindings(t *testing.T) {
	hosts := []HostRegistration{
		{Browser: "chromium", Title: "Chromium", Found: true, Registered: true},
		{Browser: "firefox", Title: "Firefox", Found: true, Detail: "host not registered"},
		{Browser: "microsoft-edge", Title: "Microsoft Edge", Found: true, Detail: "host manifest starts /x, not this kep's launcher /y"},
		{Browser: "yandex-browser", Title: "Yandex Browser"},
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	got := Extension(hosts, sock)
	want := []string{NativeHostRegistered, NativeHostNotRegistered, NativeHostStale, RelayNotServed}
	if len(got) != len(want) {
		t.Fatalf("findings %+v", got)
	}
	for i, f := range got {
		if f.Code != want[i] || f.MessageRU == "" || f.Message == f.Code {
			t.Errorf("finding %d: %+v, want %s", i, f, want[i])
		}
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := Extension(nil, sock); len(got) != 0 {
		t.Errorf("with an agent on the socket: %+v", got)
	}
}
