package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
)

// TestVerifyReport: kep verify --report writes the protocol as PDF or HTML
// by the file's extension, whatever the verdict, in the --lang language.
func TestVerifyReport(t *testing.T) {
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatalf("pdftotext not found: %v (run `make deps`: Debian package poppler-utils)", err)
	}
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "Петрова Мария Сергеевна")
	dir := t.TempDir()
	doc := filepath.Join(dir, "акт.txt")
	if err := os.WriteFile(doc, []byte("Акт приёмки"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := execute(t, nil, "sign", "--key", id.KeyFile, "--cert", id.CertFile, doc); code != 0 {
		t.Fatalf("sign: %d %s", code, stderr)
	}
	sig := doc + ".sig"

	pdf := filepath.Join(dir, "protocol.pdf")
	if _, stderr, code := execute(t, nil, "verify", "--revocation", "off", "--lang", "ru", "--content", doc, "--trust", p.Root.CertFile, "--report", pdf, sig); code != 0 {
		t.Fatalf("verify --report: exit %d: %s", code, stderr)
	}
	out, err := exec.Command(pdftotext, "-layout", pdf, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"ПРОТОКОЛ ПРОВЕРКИ ЭЛЕКТРОННОЙ ПОДПИСИ", "акт.txt", "21 байт", "Статус отзыва не проверялся Подписание", "ПОДПИСЬ ДЕЙСТВИТЕЛЬНА",
		"Владелец: Петрова Мария Сергеевна", "ДОКУМЕНТ ПОДПИСАН", filepath.Base(p.Root.CertFile) + " (--trust)",
		"без онлайн-проверки (--revocation off)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the protocol lacks %q:\n%s", want, text)
		}
	}

	// A changed document: exit 1, and still a protocol, here in English HTML.
	if err := os.WriteFile(doc, []byte("Акт приёмки!"), 0o644); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "protocol.html")
	if _, stderr, code := execute(t, nil, "verify", "--revocation", "off", "--lang", "en", "--content", doc, "--trust", p.Root.CertFile, "--report", html, sig); code != exitFail {
		t.Fatalf("verify --report, changed document: exit %d, want %d: %s", code, exitFail, stderr)
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<html lang="en">`, "SIGNATURE INVALID", "HASH_FAILURE", "Holder: Петрова Мария Сергеевна"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the HTML protocol lacks %q", want)
		}
	}

	// Another extension: a usage error that names the two.
	_, stderr, code := execute(t, nil, "verify", "--revocation", "off", "--content", doc, "--trust", p.Root.CertFile, "--report", filepath.Join(dir, "p.txt"), sig)
	if code != exitUsage || !strings.Contains(stderr, ".pdf or .html") {
		t.Errorf("--report p.txt: exit %d, %q", code, stderr)
	}
}
