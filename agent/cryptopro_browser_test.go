package agent

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/keystore"
)

// TestContainerPasswordPage: the agent's confirmation page, in Debian's
// headless Chromium, asks a CryptoPro container's password as such — the
// field labelled «Пароль контейнера», any characters (no numeric keyboard),
// the hint that it may be empty and that the container counts no tries —
// and after a wrong password says so without claiming tries, and takes the
// next one. The page alone is served (PageUI's handler), without a token.
func TestContainerPasswordPage(t *testing.T) {
	var chromium string
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		t.Fatal("Chromium is not installed (run `make deps`)")
	}
	opened := make(chan string, 1)
	ui := &PageUI{Open: func(u string) error { opened <- u; return nil }, Timeout: 60 * time.Second}
	srv := httptest.NewServer(http.HandlerFunc(ui.serveUI))
	defer srv.Close()
	ui.setBase(srv.URL, []string{srv.URL})

	e := &keystore.Entry{ID: "0123456789ABCDEF0123456789ABCDEF01234567", Certificate: &certs.Certificate{Certificate: &x509.Certificate{}},
		Token: keystore.Token{Source: keystore.SourceCryptoPro, Info: pkcs11.TokenInfo{Label: "sidorov-2026", LoginRequired: true}}}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type confirmed struct {
		c   Confirmation
		err error
	}
	confCh := make(chan confirmed, 1)
	go func() {
		c, err := ui.Confirm(ctx, Operation{Kind: OpSign, Origin: siteOrigin, Entry: e, NeedPIN: true, Size: 3, DigestAlg: "streebog256", Digest: []byte{1, 2, 3}})
		confCh <- confirmed{c, err}
	}()

	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("headless", "new"), chromedp.UserDataDir(t.TempDir()))...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(alloc)
	defer cancelTab()
	var url string
	select {
	case url = <-opened:
	case <-time.After(30 * time.Second):
		t.Fatal("no prompt was opened")
	}
	run := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatal(err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(tab, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	poll := func(expr string) {
		t.Helper()
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
	}
	const armed = `!document.getElementById("approve").disabled`
	const answered = `(() => { const s = document.getElementById("status").textContent; return s !== "" && s !== "Выполняется…"; })()`
	run(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#pin")))
	if got := eval(`document.getElementById("pinLabel").textContent`); got != containerPINLabel {
		t.Errorf("the field is labelled %q, want %q", got, containerPINLabel)
	}
	if got := eval(`document.getElementById("pin").inputMode`); got != "text" {
		t.Errorf("the password field's inputmode is %q, want text", got)
	}
	if got := eval(`document.getElementById("pinHint").hidden ? "" : document.getElementById("pinHint").textContent`); got != containerPINHint {
		t.Errorf("the hint shown is %q", got)
	}

	// Typing focuses the window, which re-arms the input protection: wait
	// for it, as a person's click would come after it.
	run(chromedp.SendKeys(chromedp.CSS("#pin"), "wrong-pass"))
	poll(armed)
	run(chromedp.Click(chromedp.CSS("#approve")))
	cf := <-confCh
	if cf.err != nil {
		t.Fatal(cf.err)
	}
	if pw, err := cf.c.PIN(ctx, keystore.PINRequest{Token: e.Token, Entry: e, Attempt: 1}); err != nil || string(pw) != "wrong-pass" {
		t.Fatalf("first password %q, %v", pw, err)
	}
	second := make(chan string, 1)
	go func() {
		pw, err := cf.c.PIN(ctx, keystore.PINRequest{Token: e.Token, Entry: e, Attempt: 2, Retry: pkcs11.ErrPINIncorrect})
		if err != nil {
			t.Error(err)
		}
		second <- string(pw)
	}()
	poll(answered)
	if got := eval(`document.getElementById("status").textContent`); got != wrongPasswordText || strings.Contains(got, "Осталось") {
		t.Errorf("after a wrong password the page says %q", got)
	}
	run(chromedp.SendKeys(chromedp.CSS("#pin"), "right пароль"))
	poll(armed)
	run(chromedp.Click(chromedp.CSS("#approve")))
	if pw := <-second; pw != "right пароль" {
		t.Errorf("second password %q", pw)
	}
	cf.c.Done(nil)
	poll(`document.getElementById("status").textContent === "Готово."`)
}
