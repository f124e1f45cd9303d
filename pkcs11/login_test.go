package pkcs11

import (
	"context"
	"errors"
	"strings"
	"testing"

	ck "github.com/miekg/pkcs11"
)

// recordUI answers PIN requests from a list and records them.
type recordUI struct {
	pins     []string
	requests []PINRequest
}

func (r *recordUI) ui() UI {
	return UI{RequestPIN: func(_ context.Context, req PINRequest) ([]byte, error) {
		r.requests = append(r.requests, req)
		if len(r.pins) == 0 {
			return nil, errors.New("test: no PIN left")
		}
		p := r.pins[0]
		r.pins = r.pins[1:]
		return []byte(p), nil
	}}
}

func openFakeToken(t *testing.T, f *fakeModule, ui UI) *Token {
	t.Helper()
	m := openFake(t, f)
	tok, err := m.OpenToken(context.Background(), Selector{}, ui)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// A token with three tries, as Rutoken and JaCarta count them: the flags
// reach the PIN prompt before each try, the third wrong PIN locks, and once
// locked no C_Login is made and no PIN is asked for.
func TestLoginCountsDownAndStopsAtLock(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("rt", 3)
	ui := &recordUI{pins: []string{"0000", "1111", "2222", "123456"}}
	tok := openFakeToken(t, f, ui.ui())
	ctx := context.Background()

	steps := []struct {
		want                error
		lowBefore, finalBef bool
	}{
		{ErrPINIncorrect, false, false},
		{ErrPINIncorrect, true, false},
		{ErrPINLocked, true, true},
	}
	for i, s := range steps {
		err := tok.Login(ctx)
		if !errors.Is(err, s.want) {
			t.Fatalf("try %d: %v, want %v", i+1, err, s.want)
		}
		var pe *Error
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), CodeName(pe.Code)) {
			t.Fatalf("try %d: %v does not carry the CKR code", i+1, err)
		}
		req := ui.requests[i]
		if req.Token.PINCountLow != s.lowBefore || req.Token.PINFinalTry != s.finalBef || req.Key != "" {
			t.Fatalf("try %d: prompt saw %+v", i+1, req)
		}
	}
	ti, err := tok.Info(ctx)
	if err != nil || !ti.PINLocked || ti.PINFinalTry {
		t.Fatalf("after three wrong PINs: %+v %v", ti, err)
	}
	if n := f.count("C_Login"); n != 3 {
		t.Fatalf("%d C_Login calls, want 3", n)
	}
	err = tok.Login(ctx)
	if !errors.Is(err, ErrPINLocked) || !strings.Contains(err.Error(), "CKF_USER_PIN_LOCKED") {
		t.Fatalf("login on a locked token: %v", err)
	}
	if n := f.count("C_Login"); n != 3 || len(ui.requests) != 3 {
		t.Fatalf("locked token: %d C_Login calls, %d prompts; want 3 and 3", n, len(ui.requests))
	}
}

// The message after a wrong PIN says what the token reports now, so that a
// caller can warn before the last try.
func TestLoginErrorReportsFinalTry(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("rt", 3)
	ui := &recordUI{pins: []string{"0000", "1111", "123456"}}
	tok := openFakeToken(t, f, ui.ui())
	ctx := context.Background()
	if err := tok.Login(ctx); !strings.Contains(err.Error(), "wrong PIN entered") {
		t.Fatalf("first wrong PIN: %v", err)
	}
	if err := tok.Login(ctx); !strings.Contains(err.Error(), "one try left") {
		t.Fatalf("second wrong PIN: %v", err)
	}
	if err := tok.Login(ctx); err != nil {
		t.Fatalf("good PIN on the final try: %v", err)
	}
	ti, _ := tok.Info(ctx)
	if ti.PINCountLow || ti.PINFinalTry || ti.PINLocked {
		t.Fatalf("flags after a good PIN: %+v", ti)
	}
	if in, err := tok.LoggedIn(ctx); !in || err != nil {
		t.Fatalf("LoggedIn = %v, %v", in, err)
	}
	// Logged in: no prompt, no C_Login.
	if err := tok.Login(ctx); err != nil || f.count("C_Login") != 3 || len(ui.requests) != 3 {
		t.Fatalf("second Login: %v, %d C_Login", err, f.count("C_Login"))
	}
	if err := tok.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if in, _ := tok.LoggedIn(ctx); in {
		t.Fatal("still logged in after Logout")
	}
	if err := tok.Logout(ctx); err != nil {
		t.Fatalf("Logout when logged out: %v", err)
	}
}

// The PIN locks while the prompt is open (another application used the
// tries up): the PIN typed is not sent.
func TestLoginRechecksLockAfterPrompt(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("rt", 3)
	ui := UI{RequestPIN: func(context.Context, PINRequest) ([]byte, error) {
		f.mu.Lock()
		f.tokens[1].flags |= ck.CKF_USER_PIN_LOCKED
		f.mu.Unlock()
		return []byte("123456"), nil
	}}
	tok := openFakeToken(t, f, ui)
	if err := tok.Login(context.Background()); !errors.Is(err, ErrPINLocked) {
		t.Fatalf("Login: %v", err)
	}
	if n := f.count("C_Login"); n != 0 {
		t.Fatalf("%d C_Login calls after the token locked, want 0", n)
	}
}

func TestLoginRefusesWithoutCallingToken(t *testing.T) {
	cancelled := errors.New("user cancelled")
	for _, tc := range []struct {
		name string
		ui   UI
		want error
	}{
		{"no UI", UI{}, ErrNoUI},
		{"empty PIN", UI{RequestPIN: func(context.Context, PINRequest) ([]byte, error) { return nil, nil }}, ErrPINLenRange},
		{"too short", UI{RequestPIN: func(context.Context, PINRequest) ([]byte, error) { return []byte("12"), nil }}, ErrPINLenRange},
		{"too long", UI{RequestPIN: func(context.Context, PINRequest) ([]byte, error) { return []byte(strings.Repeat("1", 17)), nil }}, ErrPINLenRange},
		{"cancelled", UI{RequestPIN: func(context.Context, PINRequest) ([]byte, error) { return nil, cancelled }}, cancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeModule()
			f.tokens[1] = newFakeToken("rt", 3)
			tok := openFakeToken(t, f, tc.ui)
			if err := tok.Login(context.Background()); !errors.Is(err, tc.want) {
				t.Fatalf("Login: %v, want %v", err, tc.want)
			}
			if n := f.count("C_Login"); n != 0 {
				t.Fatalf("%d C_Login calls, want 0", n)
			}
		})
	}
}

// A token that gives no PIN length range (CK_UNAVAILABLE_INFORMATION, or
// zero) gets any non-empty PIN.
func TestLoginUnknownPINRange(t *testing.T) {
	for _, r := range [][2]uint{{ck.CK_UNAVAILABLE_INFORMATION, ck.CK_UNAVAILABLE_INFORMATION}, {0, 0}} {
		f := newFakeModule()
		f.tokens[1] = newFakeToken("rt", 3)
		f.tokens[1].minPIN, f.tokens[1].maxPIN = r[0], r[1]
		f.tokens[1].pin = "1"
		tok := openFakeToken(t, f, (&recordUI{pins: []string{"1"}}).ui())
		if err := tok.Login(context.Background()); err != nil {
			t.Fatalf("range %v: %v", r, err)
		}
	}
}

// The PIN slice handed to the package is zeroed after the login.
func TestLoginZeroesPIN(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("rt", 3)
	var given []byte
	tok := openFakeToken(t, f, UI{RequestPIN: func(context.Context, PINRequest) ([]byte, error) {
		given = []byte("123456")
		return given, nil
	}})
	if err := tok.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, b := range given {
		if b != 0 {
			t.Fatalf("PIN not zeroed: %q", given)
		}
	}
}

// A PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH): no prompt, C_Login with a
// NULL PIN.
func TestLoginProtectedAuthPath(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("pad", 3)
	f.tokens[1].flags |= ck.CKF_PROTECTED_AUTHENTICATION_PATH
	ui := &recordUI{}
	tok := openFakeToken(t, f, ui.ui())
	if err := tok.Login(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(ui.requests) != 0 || f.count("C_Login") != 1 {
		t.Fatalf("%d prompts, %d C_Login", len(ui.requests), f.count("C_Login"))
	}
}

// A cancelled context stops the wait for a token another login holds.
func TestLoginContext(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("rt", 3)
	tok := openFakeToken(t, f, UI{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tok.Login(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Login with a cancelled context: %v", err)
	}
}
