package agent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kepkit/kep/pkcs11/keystore"
)

const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

// TestTokensChanged: a token removed from a PKCS#11 module while the agent
// runs is announced to approved pages only.
func TestTokensChanged(t *testing.T) {
	if _, err := os.Stat(softhsmModule); err != nil {
		t.Fatalf("SoftHSM2: %v (run `make deps`)", err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	os.Mkdir(tokens, 0o700)
	conf := filepath.Join(dir, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	if out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", "plugged", "--so-pin", "12345678", "--pin", "1234").CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util: %v %s", err, out)
	}
	keys, err := keystore.Open(context.Background(), keystore.Config{Modules: []string{softhsmModule}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	a, err := New(Config{Keys: keys, UI: &PageUI{}, EphemeralPort: true, AllowOrigins: []string{siteOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{agent: a}
	approved := f.dial(t, siteOrigin)
	stranger := f.dial(t, "https://stranger.example.ru")
	mustCall[Info](t, approved, "agent.info", nil)
	mustCall[Info](t, stranger, "agent.info", nil)

	toks := mustCall[map[string][]TokenJSON](t, approved, "tokens.list", nil)["tokens"]
	if len(toks) != 1 || toks[0].Label != "plugged" || toks[0].Source != "pkcs11" {
		t.Fatalf("tokens.list %+v", toks)
	}
	// Pulled out: the token's directory goes away at once (SoftHSM sees no
	// tokens created by other processes, so removal is what can be shown).
	dirs, _ := filepath.Glob(filepath.Join(tokens, "*"))
	if len(dirs) != 1 {
		t.Fatalf("token directories %v", dirs)
	}
	if err := os.Rename(dirs[0], filepath.Join(dir, "pulled-out")); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-approved.notes:
		p, _ := n.Params.(map[string]any)
		tok, _ := p["token"].(map[string]any)
		if n.Method != "tokens.changed" || p["event"] != "removed" || tok["label"] != "plugged" {
			t.Fatalf("notification %+v", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no tokens.changed within 20 s")
	}
	select {
	case n := <-stranger.notes:
		t.Errorf("a non-approved page was told %+v", n)
	case <-time.After(3 * time.Second):
	}
	toks = mustCall[map[string][]TokenJSON](t, approved, "tokens.list", nil)["tokens"]
	for _, tok := range toks {
		if tok.Label == "plugged" {
			t.Errorf("tokens.list still has the removed token: %+v", toks)
		}
	}
}
