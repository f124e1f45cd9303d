//go:build cgo || ((linux || darwin || windows) && (amd64 || arm64))

package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ck "github.com/miekg/pkcs11"
)

// SoftHSM 2.6.1's PIN counting, as observed: every wrong PIN is
// CKR_PIN_INCORRECT and sets CKF_USER_PIN_COUNT_LOW, nothing else; it never
// sets CKF_USER_PIN_FINAL_TRY or CKF_USER_PIN_LOCKED and never locks, however
// many wrong PINs; a good PIN logs in and clears CKF_USER_PIN_COUNT_LOW. A
// PIN shorter than the token's minimum is refused by kep before C_Login (on
// SoftHSM a C_Login with it would count as a wrong PIN). Tokens that lock are
// tested on the fake module (TestLoginCountsDownAndStopsAtLock).
func TestSoftHSMWrongPIN(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	ui := &recordUI{}
	_, tok := openSoftHSM(t, tokenLabel, ui.ui())
	ctx := context.Background()
	info := func() TokenInfo {
		t.Helper()
		ti, err := tok.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ti
	}
	if ti := info(); ti.PINCountLow || ti.PINFinalTry || ti.PINLocked {
		t.Fatalf("fresh token: %+v", ti)
	}
	const tries = 12
	for i := 1; i <= tries; i++ {
		ui.pins = []string{"9999"}
		err := tok.Login(ctx)
		var pe *Error
		if !errors.Is(err, ErrPINIncorrect) || !errors.As(err, &pe) || pe.Code != ck.CKR_PIN_INCORRECT || pe.Func != "C_Login" ||
			!strings.Contains(err.Error(), "CKR_PIN_INCORRECT") {
			t.Fatalf("wrong PIN %d: %v", i, err)
		}
		ti := info()
		if !ti.PINCountLow || ti.PINFinalTry || ti.PINLocked {
			t.Fatalf("after wrong PIN %d: count low %v, final try %v, locked %v", i, ti.PINCountLow, ti.PINFinalTry, ti.PINLocked)
		}
		if req := ui.requests[i-1]; req.Token.PINCountLow != (i > 1) {
			t.Fatalf("prompt %d saw count low %v", i, req.Token.PINCountLow)
		}
	}
	ui.pins = []string{testPIN}
	if err := tok.Login(ctx); err != nil {
		t.Fatalf("good PIN after %d wrong ones: %v", tries, err)
	}
	if ti := info(); ti.PINCountLow || ti.PINFinalTry || ti.PINLocked {
		t.Fatalf("after the good PIN: %+v", ti)
	}
	if err := tok.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	ui.pins = []string{"12"}
	if err := tok.Login(ctx); !errors.Is(err, ErrPINLenRange) {
		t.Fatalf("short PIN: %v", err)
	}
	if ti := info(); ti.PINCountLow {
		t.Fatal("the short PIN reached C_Login: SoftHSM set CKF_USER_PIN_COUNT_LOW")
	}
}

// A key with CKA_ALWAYS_AUTHENTICATE asks for the PIN before each signature
// (CKU_CONTEXT_SPECIFIC, naming the key); a wrong one fails that signature
// only.
func TestSoftHSMAlwaysAuthenticate(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	h.toolLogin(t, tokenLabel, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "05", "--label", "qualified", "--always-auth")
	ui := &recordUI{pins: []string{testPIN}}
	_, tok := openSoftHSM(t, tokenLabel, ui.ui())
	ctx := context.Background()
	k, err := tok.FindKey(ctx, []byte{5})
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("each signature needs the PIN"))
	for i := range 2 {
		ui.pins = []string{testPIN}
		sig, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		if !ecdsa.VerifyASN1(k.Public().(*ecdsa.PublicKey), d[:], sig) {
			t.Fatal("signature does not verify")
		}
	}
	if len(ui.requests) != 3 || ui.requests[0].Key != "" || ui.requests[1].Key != "qualified" || ui.requests[2].Key != "qualified" {
		t.Fatalf("PIN requests %+v: want the login, then one per signature naming the key", ui.requests)
	}
	ui.pins = []string{"9999"}
	if _, err := k.Sign(rand.Reader, d[:], crypto.SHA256); !errors.Is(err, ErrPINIncorrect) {
		t.Fatalf("wrong per-use PIN: %v", err)
	}
	// The failed operation was ended: the session signs again.
	ui.pins = []string{testPIN}
	if _, err := k.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
		t.Fatalf("after a wrong per-use PIN: %v", err)
	}
}

// The token's directory disappears while a session is open and signers are
// busy: every call ends in ErrTokenRemoved, none panics, and the Token stays
// unusable.
func TestSoftHSMTokenRemoved(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	h.toolLogin(t, tokenLabel, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "01", "--label", "ec")
	p := &pinUI{pin: testPIN}
	m, tok := openSoftHSM(t, tokenLabel, p.ui())
	ctx := context.Background()
	k, err := tok.FindKey(ctx, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	events := m.Watch(ctx, 20*time.Millisecond)
	if e := <-events; e.Kind != TokenInserted || e.Token.Label != tokenLabel {
		t.Fatalf("first event %+v", e)
	}

	d := sha256.Sum256([]byte("x"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	busy := startSigners(t, &wg, 8, errs, func() error { _, err := k.Sign(rand.Reader, d[:], crypto.SHA256); return err })
	<-busy // every signer has signed and is signing again
	dirs, err := filepath.Glob(filepath.Join(h.tokens, "*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("token directories %v %v", dirs, err)
	}
	// Away at once, as a token pulled out of its reader: deleting the files
	// one by one would show a token that loses its keys first.
	if err := os.Rename(dirs[0], filepath.Join(h.dir, "pulled-out")); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrTokenRemoved) {
			t.Errorf("signer stopped with %v, want ErrTokenRemoved", err)
		}
	}
	if _, err := tok.Info(ctx); !errors.Is(err, ErrTokenRemoved) {
		t.Errorf("Info: %v", err)
	}
	if _, err := tok.Identities(ctx); !errors.Is(err, ErrTokenRemoved) {
		t.Errorf("Identities: %v", err)
	}
	if err := tok.Login(ctx); !errors.Is(err, ErrTokenRemoved) {
		t.Errorf("Login: %v", err)
	}
	for e := range events {
		if e.Kind == TokenRemoved && e.Token.Label == tokenLabel {
			break
		}
		if e.Kind == WatchFailed {
			t.Fatalf("watch: %v", e.Err)
		}
	}
	if err := tok.Close(); err != nil {
		t.Errorf("Close of a removed token: %v", err)
	}
	if _, err := tok.Info(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Info after Close: %v", err)
	}
}

// startSigners starts n goroutines that call sign until it fails, sending
// that error to errs. The returned channel is closed once every one of them
// has signed successfully at least once: from then on all n are in their
// loops, so what the caller does next happens while they are busy.
func startSigners(t *testing.T, wg *sync.WaitGroup, n int, errs chan<- error, sign func() error) <-chan struct{} {
	t.Helper()
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			for {
				err := sign()
				if first {
					if err != nil {
						t.Errorf("first signature: %v", err)
					}
					started.Done()
					first = false
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	busy := make(chan struct{})
	go func() { started.Wait(); close(busy) }()
	return busy
}

// Closing the module while signers are busy: they stop with ErrClosed, the
// library is finalised once, and opening it again works.
func TestSoftHSMModuleClosedMidOperation(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	h.toolLogin(t, tokenLabel, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "01", "--label", "ec")
	p := &pinUI{pin: testPIN}
	ctx := context.Background()
	m, err := Open(ctx, softhsmModule)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.OpenToken(ctx, Selector{Label: tokenLabel}, p.ui())
	if err != nil {
		t.Fatal(err)
	}
	k, err := tok.FindKey(ctx, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	events := m.Watch(ctx, 10*time.Millisecond)
	<-events
	d := sha256.Sum256([]byte("x"))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	busy := startSigners(t, &wg, 8, errs, func() error { _, err := k.Sign(rand.Reader, d[:], crypto.SHA256); return err })
	<-busy // every signer has signed and is signing again
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("signer stopped with %v, want ErrClosed", err)
		}
	}
	for e := range events { // the watcher ends with the module
		if e.Kind == WatchFailed && !errors.Is(e.Err, ErrClosed) {
			t.Errorf("watch: %v", e.Err)
		}
	}
	if _, err := m.Tokens(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Tokens after Close: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, tok2 := openSoftHSM(t, tokenLabel, p.ui())
	k2, err := tok2.FindKey(ctx, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
		t.Fatalf("after reopening: %v", err)
	}
}

// Two paths to one library share one context, and a library initialised by
// other code in the process is shared without being finalised under it.
func TestSoftHSMSharedContext(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	ctx := context.Background()
	real, err := filepath.EvalSymlinks(softhsmModule)
	if err != nil || real == softhsmModule {
		t.Fatalf("%s should be a symbolic link: %v", softhsmModule, err)
	}
	m1, err := Open(ctx, softhsmModule)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Open(ctx, real)
	if err != nil {
		t.Fatal(err)
	}
	if m1.Path() != softhsmModule || m2.Path() != real {
		t.Fatalf("paths %s, %s", m1.Path(), m2.Path())
	}
	if m1.st != m2.st || m1.st.refs != 2 || !m1.st.ownsInit {
		t.Fatalf("not shared: %p %p refs %d", m1.st, m2.st, m1.st.refs)
	}
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.OpenToken(ctx, Selector{Label: tokenLabel}, UI{}); err != nil {
		t.Fatalf("second module after the first closed: %v", err)
	}
	if err := m2.Close(); err != nil {
		t.Fatal(err)
	}

	// Other code initialised the library first.
	other := newOtherCode(t, real)
	defer other.Destroy()
	if err := other.Initialize(); err != nil {
		t.Fatal(err)
	}
	m3, err := Open(ctx, real)
	if err != nil {
		t.Fatalf("Open after another C_Initialize: %v", err)
	}
	if m3.st.ownsInit {
		t.Fatal("took ownership of another's C_Initialize")
	}
	if _, err := m3.OpenToken(ctx, Selector{Label: tokenLabel}, UI{}); err != nil {
		t.Fatal(err)
	}
	if err := m3.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := other.GetSlotList(true); err != nil {
		t.Fatalf("the other code's context was finalised: %v", err)
	}
	if err := other.Finalize(); err != nil {
		t.Fatal(err)
	}
}

// Watch reports the tokens present, then a token initialised by other code
// in the process (SoftHSM does not see tokens other processes create after
// C_Initialize), then its removal.
func TestSoftHSMWatch(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	m, _ := openSoftHSM(t, tokenLabel, UI{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := m.Watch(ctx, 20*time.Millisecond)
	next := func(kind EventKind, label string) TokenInfo {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case e := <-events:
				if e.Kind == WatchFailed {
					t.Fatalf("watch: %v", e.Err)
				}
				if e.Kind == kind && e.Token.Label == label {
					return e.Token
				}
			case <-timeout:
				t.Fatalf("no %v event for %q", kind, label)
			}
		}
	}
	next(TokenInserted, tokenLabel)
	free := next(TokenInserted, "") // SoftHSM's free slot
	if free.Initialized {
		t.Fatalf("free slot %+v", free)
	}
	before, _ := filepath.Glob(filepath.Join(h.tokens, "*"))

	other := newOtherCode(t, softhsmModule)
	defer other.Destroy() // no C_Finalize: the library is shared with m
	if err := other.Initialize(); !hasCode(err, ck.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		t.Fatalf("second C_Initialize: %v", err)
	}
	if err := other.InitToken(free.Slot, testSOPIN, "second"); err != nil {
		t.Fatal(err)
	}
	second := next(TokenInserted, "second")
	if !second.Initialized {
		t.Fatalf("new token %+v", second)
	}
	after, _ := filepath.Glob(filepath.Join(h.tokens, "*"))
	for _, d := range after {
		if !contains(before, d) {
			if err := os.RemoveAll(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := next(TokenRemoved, "second"); got.Serial != second.Serial {
		t.Fatalf("removed %+v, want %+v", got, second)
	}
	cancel()
	for range events { // closed when the context is done
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSoftHSMChangePIN: C_SetPIN through the module, then pkcs11-tool logs in
// with the new PIN only.
func TestSoftHSMChangePIN(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	_, tok := openSoftHSM(t, tokenLabel, UI{})
	ctx := context.Background()
	if err := tok.ChangePIN(ctx, []byte("9999"), []byte("5678")); !errors.Is(err, ErrPINIncorrect) {
		t.Fatalf("wrong old PIN: %v", err)
	}
	if err := tok.ChangePIN(ctx, []byte(testPIN), []byte("5678")); err != nil {
		t.Fatal(err)
	}
	h.tool(t, "--token-label", tokenLabel, "--login", "--pin", "5678", "--list-objects")
	if out, err := exec.Command("pkcs11-tool", "--module", softhsmModule, "--token-label", tokenLabel, "--login", "--pin", testPIN, "--list-objects").CombinedOutput(); err == nil {
		t.Fatalf("the old PIN still works:\n%s", out)
	}
}
