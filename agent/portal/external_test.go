package portal_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/demopki"
)

// The external agent: a kep agent in another process — scripts/
// test-platforms.sh starts kep.exe under Wine — that the demo portal in
// headless Chromium uses as a person would. The agent was started with
// --no-browser, so it writes each confirmation page's one-time address to
// its terminal; the test reads that output (a file) and opens the address
// in a second tab, as the person reads the terminal. Nothing in the
// agent's process is hooked.
const (
	envExternalAgent = "KEP_TEST_EXTERNAL_AGENT"     // 127.0.0.1:PORT
	envExternalLog   = "KEP_TEST_EXTERNAL_AGENT_LOG" // the agent's stderr, a file
	envExternalDemo  = "KEP_TEST_EXTERNAL_DEMO"      // the `kep demo init` directory whose token the agent serves
	envExternalOut   = "KEP_TEST_EXTERNAL_OUT"       // optional: where Договор.txt and its .sig are copied
	// envExternalToken is how the agent reaches the demo token: "soft"
	// (--soft, the default) or "pkcs11" (--module, e.g. kep-pkcs11.dll).
	envExternalToken = "KEP_TEST_EXTERNAL_TOKEN"
)

// promptLine is what `kep agent --no-browser` writes for each confirmation
// (cmd/kep/agent.go).
var promptLine = regexp.MustCompile(`kep: open (http://127\.0\.0\.1:[0-9]+/ui/\S+) in your browser to answer`)

// TestBrowserExternalAgent: the person's first visit to the demo portal
// (loginSignVerify: access window, the certificates listed, login with a
// wrong PIN then the right one, a document signed and checked by openssl
// and by the portal) against the agent named by KEP_TEST_EXTERNAL_AGENT.
func TestBrowserExternalAgent(t *testing.T) {
	addr := os.Getenv(envExternalAgent)
	if addr == "" {
		t.Skip(envExternalAgent + " is not set: no agent in another process to drive (scripts/test-platforms.sh sets it for kep.exe under Wine; the in-process tests above cover the same flow)")
	}
	host, p, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil || host != "127.0.0.1" {
		t.Fatalf("%s=%q: want 127.0.0.1:PORT", envExternalAgent, addr)
	}
	logFile, demoDir := os.Getenv(envExternalLog), os.Getenv(envExternalDemo)
	if logFile == "" || demoDir == "" {
		t.Fatalf("%s needs %s (the agent's stderr) and %s (its demo token's directory)", envExternalAgent, envExternalLog, envExternalDemo)
	}
	demo, err := demopki.Load(demoDir)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := certs.ParseCertificates(mustRead(t, demo.Path(demo.CA)))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, demo: demo, rootCerts: roots, port: port, prompts: make(chan string, 8), portals: map[string]string{}}
	switch tok := os.Getenv(envExternalToken); tok {
	case "", "soft":
	case "pkcs11":
		// A PKCS#11 module reports no count, only CKF_USER_PIN_COUNT_LOW.
		w.wrongPIN = "число попыток ограничено"
	default:
		t.Fatalf("%s=%q: want soft or pkcs11", envExternalToken, tok)
	}
	f, err := os.Open(logFile)
	if err != nil {
		t.Fatal(err)
	}
	// Closed after the browser's cleanup, which stops followPrompts.
	t.Cleanup(func() { f.Close() })
	// Addresses printed before this test are not its own.
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	w.browser = startBrowser(t)
	go followPrompts(w, f)

	start := time.Now()
	docFile, sigFile := loginSignVerify(t, w)
	t.Logf("the portal's flow against the agent at %s: %v", addr, time.Since(start).Round(time.Millisecond))
	if out := os.Getenv(envExternalOut); out != "" && !t.Failed() {
		for _, f := range []string{docFile, sigFile} {
			if err := os.WriteFile(filepath.Join(out, filepath.Base(f)), mustRead(t, f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// followPrompts reads the agent's output as it grows and hands each
// confirmation address to the simulated person (w.answer), until the
// browser closes.
func followPrompts(w *world, f *os.File) {
	r := bufio.NewReader(f)
	var partial string
	for {
		line, err := r.ReadString('\n')
		partial += line
		if err == nil {
			if m := promptLine.FindStringSubmatch(partial); m != nil {
				w.prompts <- m[1]
			}
			partial = ""
			continue
		}
		if err != io.EOF {
			if w.browser.Err() == nil {
				w.t.Errorf("reading the agent's output: %v", err)
			}
			return
		}
		select {
		case <-w.browser.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}
