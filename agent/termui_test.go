package agent

import (
	"bytes"
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
	tty.in = strings.NewReader("да\n" + "y\n0000\n" + "y\n" + testPIN + "\n" + "n\n")
	mustCall[map[string]bool](t, c, "agent.requestAccess", nil)
	mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "data": []byte("x"), "description": "Акт сверки"})
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
}
