package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/internal/testpki"
)

// firstRun makes the demo PKI where make run puts it (kep/demo in a fresh
// user config directory), with its CRL at a closed address as after make run
// stops, and a detached signature of a document with the person's key.
func firstRun(t *testing.T) (m *demopki.Manifest, doc, sig string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Setenv("KEP_SOFT_DIR", "")
	t.Setenv("KEP_DEMO_DIR", "")
	t.Setenv("KEP_PIN", "")
	os.Unsetenv("KEP_PIN")
	dir, err := defaultDemoDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := execute(t, nil, "demo", "init", dir, "--crl-url", "http://"+stoppedPortal(t)+"/demo/ca.crl"); code != 0 {
		t.Fatal(stderr)
	}
	if m, err = demopki.Load(dir); err != nil {
		t.Fatal(err)
	}
	doc = filepath.Join(home, "contract.txt")
	if err := os.WriteFile(doc, []byte("договор"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEP_PIN", demopki.PIN)
	_, stderr, code := execute(t, nil, "sign", "--soft", m.Path(m.Token), "--cert", m.Identities[0].Thumbprint, doc)
	sig = doc + ".sig"
	// Item 9: a successful kep sign says what it wrote.
	if code != 0 || !strings.Contains(stderr, "wrote "+sig) || !strings.Contains(stderr, "Иванов Иван Иванович") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("sign: exit %d, %q", code, stderr)
	}
	return m, doc, sig
}

// TestDemoVerifyAfterRun (item 4): with the portal stopped, the demo CRL
// cannot be fetched; the message names the URL, --crl with the demo's file,
// and --revocation off — and with --crl the README's example exits 0.
func TestDemoVerifyAfterRun(t *testing.T) {
	m, doc, sig := firstRun(t)
	ca, crl := m.Path(m.CA), m.Path(m.CRL)
	_, stderr, code := execute(t, nil, "verify", "--content", doc, "--trust", ca, sig)
	if code != exitIndeterminate {
		t.Fatalf("exit %d, want 3: %s", code, stderr)
	}
	for _, want := range []string{"INDETERMINATE/TRY_LATER", "the CRL at " + m.CRLURL + " could not be fetched", "--crl FILE", "the demo writes " + crl, "--revocation off"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("message lacks %q: %s", want, stderr)
		}
	}
	// kep certs verify says the same.
	cert := filepath.Join(t.TempDir(), "person.pem")
	if _, stderr, code := execute(t, nil, "certs", "export", "--no-discover", "--soft", m.Path(m.Token), "-o", cert, m.Identities[0].Thumbprint); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := execute(t, nil, "certs", "verify", "--trust", ca, cert); code != exitIndeterminate || !strings.Contains(stderr, "the demo writes "+crl) {
		t.Errorf("certs verify: exit %d: %s", code, stderr)
	}
	// The README's example, with the demo's CRL.
	if out, stderr, code := execute(t, nil, "verify", "--content", doc, "--trust", ca, "--crl", crl, sig); code != exitOK {
		t.Errorf("verify --crl: exit %d: %s%s", code, out, stderr)
	}
}

// TestDoctorFindsDemoToken (item 6): after make run, kep doctor with no
// flags finds the demo's software token (no TOKEN_NOT_PRESENT, PC/SC at most
// a warning, exit 0) and says the chains were not checked, naming the demo's
// ca.pem; KEP_SOFT_DIR is taken first, as kep agent takes it.
func TestDoctorFindsDemoToken(t *testing.T) {
	m, _, _ := firstRun(t)
	out, stderr, code := execute(t, nil, "doctor", "--agent-port", "0", "--lang", "en", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s %s", code, out, stderr)
	}
	if !strings.Contains(stderr, "software token "+m.Path(m.Token)) {
		t.Errorf("stderr does not name the token it used: %q", stderr)
	}
	if strings.Contains(out, "TOKEN_NOT_PRESENT") || strings.Contains(out, `"severity": "error"`) {
		t.Errorf("an error although the demo token is there:\n%s", out)
	}
	out, _, _ = execute(t, nil, "doctor", "--agent-port", "0", "--lang", "en")
	if !strings.Contains(out, "WARN  CHAIN_NOT_CHECKED") || !strings.Contains(out, "--trust "+m.Path(m.CA)) {
		t.Errorf("no word of the unchecked chains:\n%s", out)
	}
	if out, _, code := execute(t, nil, "doctor", "--agent-port", "0", "--lang", "en", "--trust", m.Path(m.CA), "--crl", m.Path(m.CRL), "--revocation", "off"); code != exitOK ||
		strings.Contains(out, "CHAIN_NOT_CHECKED") || strings.Count(out, "CERT_OK") != 3 {
		t.Errorf("with --trust: exit %d\n%s", code, out)
	}
	empty := t.TempDir()
	t.Setenv("KEP_SOFT_DIR", empty)
	if _, stderr, _ := execute(t, nil, "doctor", "--agent-port", "0", "--no-discover"); !strings.Contains(stderr, "software token "+empty+" (KEP_SOFT_DIR") {
		t.Errorf("KEP_SOFT_DIR not used: %q", stderr)
	}
}

// TestCertsExportShowList (item 8).
func TestCertsExportShowList(t *testing.T) {
	m, _, sig := firstRun(t)
	tok, id := m.Path(m.Token), m.Identities[1]
	dir := t.TempDir()
	// By thumbprint, PEM to stdout; by CKA_ID, DER to a file.
	out, stderr, code := execute(t, nil, "certs", "export", "--no-discover", "--soft", tok, strings.ToLower(id.Thumbprint))
	if code != 0 || !strings.HasPrefix(out, "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("export PEM: exit %d %s", code, stderr)
	}
	if cs, err := certs.ParseCertificates([]byte(out)); err != nil || len(cs) != 1 || cs[0].Thumbprint() != id.Thumbprint {
		t.Fatalf("exported PEM: %v", err)
	}
	derFile := filepath.Join(dir, "org.cer")
	if _, stderr, code := execute(t, nil, "certs", "export", "--no-discover", "--soft", tok, "--der", "-o", derFile, id.KeyID); code != 0 || !strings.Contains(stderr, derFile) {
		t.Fatalf("export DER: exit %d %s", code, stderr)
	}
	der, _ := os.ReadFile(derFile)
	if c, err := certs.ParseCertificate(der); err != nil || c.Thumbprint() != id.Thumbprint {
		t.Fatalf("exported DER: %v", err)
	}
	// From a signature: the signer's certificate.
	out, _, code = execute(t, nil, "certs", "export", sig)
	cs, err := certs.ParseCertificates([]byte(out))
	if code != 0 || err != nil {
		t.Fatalf("export from SIG: exit %d %v", code, err)
	}
	found := false
	for _, c := range cs {
		found = found || c.Thumbprint() == m.Identities[0].Thumbprint
	}
	if !found {
		t.Errorf("export from SIG: the signer's certificate is not among the %d", len(cs))
	}
	// Unknown thumbprint: says where to look.
	if _, stderr, code := execute(t, nil, "certs", "export", "--no-discover", "--soft", tok, "00112233"); code != exitFail || !strings.Contains(stderr, "kep certs list") {
		t.Errorf("unknown: exit %d %s", code, stderr)
	}
	// certs show on a signature names the commands to use.
	if _, stderr, code := execute(t, nil, "certs", "show", sig); code != exitUsage || !strings.Contains(stderr, "this is a CMS signature") ||
		!strings.Contains(stderr, "kep verify") || !strings.Contains(stderr, "kep certs export") || strings.Contains(stderr, "tbs") {
		t.Errorf("certs show SIG: exit %d %s", code, stderr)
	}
	// certs list shows the key state in its plain output.
	out, _, _ = execute(t, nil, "certs", "list", "--no-discover", "--soft", tok)
	if n := strings.Count(out, "private key: present"); n != 3 {
		t.Errorf("%d 'private key: present' lines, want 3:\n%s", n, out)
	}
}

// TestMessagesNameTheFix (item 9).
func TestMessagesNameTheFix(t *testing.T) {
	m, doc, sig := firstRun(t)
	tok, demo := m.Path(m.Token), m.Dir
	thumb := m.Identities[0].Thumbprint
	for _, c := range []struct {
		name  string
		stdin string
		env   map[string]string
		args  []string
		code  int
		want  []string
		never []string
	}{
		{"--pin", "", nil, []string{"sign", "--soft", tok, "--cert", thumb, "--pin", "12345678", doc}, exitUsage,
			[]string{"unknown flag: --pin", "--pin-file FILE", "KEP_PIN"}, nil},
		{"--pin=", "", nil, []string{"login", "sign", "--pin=12345678", "-"}, exitUsage, []string{"--pin-file FILE", "KEP_PIN"}, nil},
		{"two arguments", "", nil, []string{"verify", doc, sig}, exitUsage, []string{"--content " + doc, sig}, []string{"accepts 1 arg"}},
		{"document as signature", "", nil, []string{"verify", "--trust", m.Path(m.CA), doc}, exitUsage,
			[]string{"is not a CMS signature", "text file", "--content"}, []string{"ber:"}},
		{"no --soft", "", nil, []string{"sign", "--cert", thumb, doc}, exitUsage, []string{"--key", "--module", "--soft DIR", "--soft " + tok}, nil},
		{"--soft at the demo folder", "", nil, []string{"sign", "--soft", demo, "--cert", thumb, doc}, exitFail, []string{"--soft " + tok}, nil},
		{"no PIN", "", map[string]string{"KEP_PIN": ""}, []string{"sign", "--soft", tok, "--cert", thumb, doc}, exitUsage, []string{"--pin-file", "KEP_PIN"}, []string{"KEP_NEW_PIN"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
				if v == "" {
					os.Unsetenv(k)
				}
			}
			_, stderr, code := execute(t, []byte(c.stdin), c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d: %s", code, c.code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("message lacks %q: %s", w, stderr)
				}
			}
			for _, w := range c.never {
				if strings.Contains(stderr, w) {
					t.Errorf("message has %q: %s", w, stderr)
				}
			}
		})
	}
}

// stoppedPortal is the address of a portal that is not running: a port that
// was just free.
func stoppedPortal(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestVerifyDetachedWithoutContent: a detached signature given alone
// names --content.
func TestVerifyDetachedWithoutContent(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.TC26256A, "Detached")
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("документ"), 0o644)
	sig := filepath.Join(dir, "doc.txt.sig")
	if _, stderr, code := execute(t, nil, "sign", "--key", id.KeyFile, "--cert", id.CertFile, "-o", sig, doc); code != 0 {
		t.Fatalf("sign: %d %s", code, stderr)
	}
	_, stderr, code := execute(t, nil, "verify", "--trust", p.Root.CertFile, "--revocation", "off", sig)
	if code != exitIndeterminate || !strings.Contains(stderr, "give the signed document with --content FILE") {
		t.Errorf("exit %d, %q: want exit %d naming --content", code, stderr, exitIndeterminate)
	}
}
