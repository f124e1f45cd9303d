package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cpfixture"
	"github.com/kepkit/kep/internal/testpki"
)

// TestAgentCLI runs `kep agent` as a process with a software token: a page
// origin given with --allow-origin lists the token's certificate over the
// WebSocket, another origin is not approved, SIGTERM stops the agent with
// exit 0; `kep agent sites` lists and revokes approvals in the same file.
// A CryptoPro container found by the search ($KEP_CRYPTOPRO_PATH, on by
// default) is listed too, and one named with --cryptopro.
func TestAgentCLI(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "kep")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	p := testpki.New(t)
	id := p.Leaf(t, testpki.TC26256A, "Agent CLI user")
	tokDir := filepath.Join(dir, "token")
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("4321\n"), 0o600)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("HOME", dir)
	if _, stderr, code := execute(t, nil, "soft", "init", tokDir, "--pin-file", pinFile); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := execute(t, nil, "soft", "import", tokDir, "--key", id.KeyFile, "--cert", id.CertFile, "--pin-file", pinFile); code != 0 {
		t.Fatal(stderr)
	}
	// CryptoPro containers: one where the search looks, one named.
	cpRoot := filepath.Join(dir, "flash")
	found := p.Leaf(t, testpki.CryptoProA, "Found container")
	named := p.Leaf(t, testpki.TC26256A, "Named container")
	if err := cpfixture.Write(filepath.Join(cpRoot, "found.000"), found.Signer.(*gost3410.PrivateKey), found.Cert.Raw, cpfixture.Options{}); err != nil {
		t.Fatal(err)
	}
	namedDir := filepath.Join(dir, "named.000")
	if err := cpfixture.Write(namedDir, named.Signer.(*gost3410.PrivateKey), named.Cert.Raw, cpfixture.Options{Password: "x"}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEP_CRYPTOPRO_PATH", cpRoot)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(bin, "agent", "--port", fmt.Sprint(port), "--soft", tokDir, "--no-discover", "--no-browser",
		"--allow-origin", "https://portal.example.ru", "--trust", p.Root.CertFile, "--cryptopro", namedDir)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	started := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				started <- sc.Text()
			}
		}
	}()
	select {
	case line := <-started:
		if !strings.Contains(line, fmt.Sprintf("127.0.0.1:%d", port)) {
			t.Errorf("start line %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the agent did not start")
	}

	call := func(origin, method string) map[string]any {
		t.Helper()
		h := map[string][]string{"Origin": {origin}}
		ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", port), h)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method})
		var reply map[string]any
		if err := ws.ReadJSON(&reply); err != nil {
			t.Fatal(err)
		}
		return reply
	}
	reply := call("https://portal.example.ru", "certs.list")
	res, _ := reply["result"].(map[string]any)
	list, _ := res["certificates"].([]any)
	ids := map[string]string{}
	for _, x := range list {
		e := x.(map[string]any)
		ids[e["id"].(string)] = e["token"].(map[string]any)["source"].(string)
	}
	if len(list) != 3 || ids[id.Cert.Thumbprint()] != "soft" || ids[found.Cert.Thumbprint()] != "cryptopro" || ids[named.Cert.Thumbprint()] != "cryptopro" {
		t.Fatalf("certs.list: %v", reply)
	}
	reply = call("https://other.example.ru", "certs.list")
	if e, _ := reply["error"].(map[string]any); e == nil || e["data"].(map[string]any)["reason"] != "ORIGIN_NOT_APPROVED" {
		t.Fatalf("other origin: %v", reply)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("agent exit: %v", err)
	}

	// Sites: an approval written by the agent's store is listed and revoked.
	sitesFile := filepath.Join(dir, "config", "kep", "agent", "sites.json")
	os.MkdirAll(filepath.Dir(sitesFile), 0o700)
	os.WriteFile(sitesFile, []byte(`{"sites":[{"origin":"https://a.example.ru","approved":"2026-11-24T10:00:00Z"}]}`), 0o600)
	out, _, code := execute(t, nil, "agent", "sites", "list", "--json")
	var sites []struct{ Origin string }
	if code != 0 || json.Unmarshal([]byte(out), &sites) != nil || len(sites) != 1 || sites[0].Origin != "https://a.example.ru" {
		t.Fatalf("sites list: %d %s", code, out)
	}
	if _, stderr, code := execute(t, nil, "agent", "sites", "revoke", "https://A.example.ru:443"); code != 0 {
		t.Fatalf("revoke: %s", stderr)
	}
	if _, _, code := execute(t, nil, "agent", "sites", "revoke", "https://a.example.ru"); code != 1 {
		t.Errorf("revoking twice: exit %d, want 1", code)
	}
	if _, _, code := execute(t, nil, "agent", "sites", "revoke", "http://a.example.ru"); code != 2 {
		t.Errorf("revoking a non-https origin: exit %d, want 2", code)
	}
}
