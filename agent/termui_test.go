package agent

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
)

// scriptedTTY is a terminal whose keyboard input is a script and whose
// screen is a buffer.
type scriptedTTY struct {
	mu     sync.Mutex
	in     io.Reader
	screen bytes.Buffer
}

func (s *scriptedTTY) Read(p []byte) (int, error) { return s.in.Read(p) }
func (s *scriptedTTY) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.screen.Write(p)
}

func (s *scriptedTTY) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.screen.String()
}

func TestTerminalUI(t *testing.T) {
	tty := &scriptedTTY{}
	f := newFixture(t, Config{UI: &TerminalUI{TTY: tty}})
	c := f.dial(t, siteOrigin)
	id := f.ids[0].Cert.Thumbprint()

	// Access granted, a signature with a wrong PIN and a retry, a refusal.
	tty.in = strings.NewReader("да\n\n" + "y\n0000\n" + "y\n" + testPIN + "\n" + "n\n")
	mustCall[map[string]bool](t, c, "agent.requestAccess", nil)
	// C1 control characters (U+009B is CSI) and bidi controls from the
	// site never reach the terminal.
	mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "data": []byte("x"), "description": "Акт сверки\u009b2J\u202e\x1b[31m"})
	_, e := c.call(t, "sign", map[string]any{"certId": id, "data": []byte("y")})
	wantReason(t, e, ReasonUserCancelled)

	screen := tty.text()
	for _, want := range []string{"сайт " + siteOrigin + " просит доступ", "Акт сверки", "неверный PIN-код", "Готово.", "хэш streebog256"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal did not show %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, testPIN) {
		t.Errorf("the PIN was echoed")
	}
	for _, bad := range []string{"\u009b", "\u202e", "\x1b"} {
		if strings.Contains(screen, bad) {
			t.Errorf("the terminal got the control character %q", bad)
		}
	}

	// Another site given only the second certificate sees only that one
	// and cannot use the first.
	const other = "https://other.example.ru"
	tty.in = strings.NewReader("да\n2\n")
	o := f.dial(t, other)
	mustCall[map[string]bool](t, o, "agent.requestAccess", nil)
	list := mustCall[struct {
		Certificates []CertJSON `json:"certificates"`
	}](t, o, "certs.list", nil)
	entries, err := f.agent.cfg.Keys.Certificates(context.Background())
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %d %v", len(entries), err)
	}
	if len(list.Certificates) != 1 || list.Certificates[0].ID != entries[1].ID {
		t.Fatalf("the site sees %+v, want only %s", list.Certificates, entries[1].ID)
	}
	_, e = o.call(t, "sign", map[string]any{"certId": entries[0].ID, "data": []byte("x")})
	wantReason(t, e, ReasonCertNotFound)
}
