package pkcs11

import (
	"context"
	"errors"
	"fmt"

	ck "github.com/miekg/pkcs11"
)

// UI is how the package asks the user for a PIN, injected by the caller as
// age's plugin ClientUI is: the library never reads a terminal or opens a
// window. The zero UI cannot log in (ErrNoUI).
type UI struct {
	// RequestPIN returns the PIN for req. It is called only when a login
	// is needed and the token does not report its PIN locked; warn the
	// user when req.Token.PINFinalTry or PINCountLow is set. The package
	// zeroes the returned slice after the login, so return a fresh one and
	// keep no copy. An error (e.g. the user cancelled) is returned to the
	// caller of the operation unchanged, and no login is attempted.
	RequestPIN func(ctx context.Context, req PINRequest) ([]byte, error)
}

// PINRequest describes the PIN wanted.
type PINRequest struct {
	// Token is the token's state just before the prompt.
	Token TokenInfo
	// Key is empty for the login to the token, or names the key (its
	// label, else its CKA_ID in hex) for the per-use PIN of a key with
	// CKA_ALWAYS_AUTHENTICATE.
	Key string
}

// Token is a session with one token. It is safe for concurrent use: the
// calls on a token are serialised (one C call sequence at a time per slot,
// across every Token and Module on the same library), so concurrent signers
// queue rather than share the session. Login state is per application and
// token (PKCS#11): logging in or out through one Token does it for all.
//
// When the token is removed (or its session is closed under it) operations
// fail with ErrTokenRemoved from then on; open it again when it is back.
type Token struct {
	m     *Module
	st    *moduleState
	locks *slotLocks
	slot  uint
	info  TokenInfo // as opened: label and serial identify the token
	ui    UI
	mechs map[uint]bool // nil when the module would not list its mechanisms

	// Guarded by locks.op.
	session uint
	closed  bool
	gone    error // set once the token is found removed
}

func (m *Module) open(ctx context.Context, ti TokenInfo, ui UI) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t := &Token{m: m, st: m.st, locks: m.st.slot(ti.Slot), slot: ti.Slot, info: ti, ui: ui}
	err := m.call(func(c cryptoki) error {
		s, err := c.OpenSession(ti.Slot, ck.CKF_SERIAL_SESSION|ck.CKF_RW_SESSION)
		if hasCode(err, ck.CKR_TOKEN_WRITE_PROTECTED) {
			s, err = c.OpenSession(ti.Slot, ck.CKF_SERIAL_SESSION)
		}
		if err != nil {
			return err
		}
		t.session = s
		// A module that cannot list its mechanisms (the call is optional
		// in practice) leaves mechs nil: mechanisms are then tried as
		// needed and the token's error reported.
		if ms, err := c.GetMechanismList(ti.Slot); err == nil {
			t.mechs = make(map[uint]bool, len(ms))
			for _, x := range ms {
				t.mechs[x] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("token %s: %w", ti, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		_ = m.st.do(func(c cryptoki) error { return c.CloseSession(t.session) }) // never handed out
		return nil, ErrClosed
	}
	m.tokens[t] = struct{}{}
	return t, nil
}

// offers reports whether the token lists mechanism x; known is false when
// the module gave no list.
func (t *Token) offers(x uint) (ok, known bool) {
	if t.mechs == nil {
		return false, false
	}
	return t.mechs[x], true
}

// do runs f on the token's session under the slot's lock.
func (t *Token) do(ctx context.Context, f func(c cryptoki, session uint) error) error {
	if err := t.locks.op.Lock(ctx); err != nil {
		return err
	}
	defer t.locks.op.Unlock()
	return t.doLocked(f)
}

func (t *Token) doLocked(f func(c cryptoki, session uint) error) error {
	if t.closed {
		return ErrClosed
	}
	if t.gone != nil {
		return t.gone
	}
	err := t.st.do(func(c cryptoki) error { return f(c, t.session) })
	if !mayMeanRemoval(err) {
		return err
	}
	if errors.Is(err, ErrTokenRemoved) {
		t.gone = fmt.Errorf("token %s: %w", t.info, err)
		return t.gone
	}
	// The failure may come from a vanished token: look whether the slot
	// still holds the same token.
	perr := t.st.do(t.stillThere)
	if perr == nil || errors.Is(perr, ErrClosed) {
		return err
	}
	t.gone = fmt.Errorf("%w: token %s (%v): %w", ErrTokenRemoved, t.info, perr, err)
	return t.gone
}

// stillThere returns nil when the slot still holds the token t opened.
func (t *Token) stillThere(c cryptoki) error {
	ti, err := c.GetTokenInfo(t.slot)
	if err != nil {
		return err
	}
	if ti.Label != t.info.Label || ti.Serial != t.info.Serial {
		return fmt.Errorf("slot %d now holds token %s", t.slot, ti)
	}
	return nil
}

// Close closes the token's session. It waits for an operation under way.
func (t *Token) Close() error {
	t.m.mu.Lock()
	delete(t.m.tokens, t)
	t.m.mu.Unlock()
	return t.close()
}

func (t *Token) close() error {
	if err := t.locks.op.Lock(context.Background()); err != nil {
		return err
	}
	defer t.locks.op.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.gone != nil {
		return nil // the session went with the token
	}
	err := t.st.do(func(c cryptoki) error { return c.CloseSession(t.session) })
	if errors.Is(err, ErrTokenRemoved) || errors.Is(err, ErrTokenNotPresent) || errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// Info returns the token's current state, PIN flags included.
func (t *Token) Info(ctx context.Context) (TokenInfo, error) {
	var ti TokenInfo
	err := t.do(ctx, func(c cryptoki, _ uint) (err error) {
		ti, err = c.GetTokenInfo(t.slot)
		return err
	})
	return ti, err
}

// LoggedIn reports whether the user is logged in to the token.
func (t *Token) LoggedIn(ctx context.Context) (bool, error) {
	var in bool
	err := t.do(ctx, func(c cryptoki, s uint) error {
		st, err := c.GetSessionState(s)
		in = st == ck.CKS_RO_USER_FUNCTIONS || st == ck.CKS_RW_USER_FUNCTIONS
		return err
	})
	return in, err
}

// Login logs the user in, asking UI.RequestPIN for the PIN (not on a token
// with a protected authentication path, whose PIN pad asks). It returns nil
// at once when already logged in. Login is never attempted when the token
// reports its user PIN locked: that is ErrPINLocked without a C_Login. A
// PIN that is empty or outside the token's length range is refused with
// ErrPINLenRange, also without a C_Login, so it costs no try. One call makes
// at most one C_Login: after ErrPINIncorrect read Info and warn before asking
// again. Concurrent logins to one token wait for each other, so the user is
// asked once.
func (t *Token) Login(ctx context.Context) error {
	if err := t.locks.login.Lock(ctx); err != nil {
		return err
	}
	defer t.locks.login.Unlock()
	if in, err := t.LoggedIn(ctx); err != nil || in {
		return err
	}
	ti, err := t.Info(ctx)
	if err != nil {
		return err
	}
	pin, err := t.pin(ctx, ti, "")
	defer clear(pin)
	if err != nil {
		return err
	}
	return t.do(ctx, func(c cryptoki, s uint) error {
		return t.login(c, s, ck.CKU_USER, pin)
	})
}

// ensureLogin logs in when the token requires it and nobody has.
func (t *Token) ensureLogin(ctx context.Context) error {
	if !t.info.LoginRequired {
		return nil
	}
	return t.Login(ctx)
}

// pin gets the PIN for a login described by ti: nil for a protected
// authentication path, else what UI.RequestPIN returns, checked against the
// token's length range.
func (t *Token) pin(ctx context.Context, ti TokenInfo, key string) ([]byte, error) {
	if ti.PINLocked {
		return nil, pinLocked(ti)
	}
	if ti.ProtectedAuthPath {
		return nil, nil
	}
	if t.ui.RequestPIN == nil {
		return nil, ErrNoUI
	}
	pin, err := t.ui.RequestPIN(ctx, PINRequest{Token: ti, Key: key})
	if err != nil {
		clear(pin)
		return nil, err
	}
	n := uint(len(pin))
	known := func(v uint) bool { return v > 0 && v != ck.CK_UNAVAILABLE_INFORMATION }
	switch {
	case n == 0:
		return nil, fmt.Errorf("%w: empty PIN, not sent to the token", ErrPINLenRange)
	case known(ti.MinPINLen) && n < ti.MinPINLen, known(ti.MaxPINLen) && n > ti.MaxPINLen:
		clear(pin)
		return nil, fmt.Errorf("%w: the token takes PINs of %d to %d bytes; not sent to the token", ErrPINLenRange, ti.MinPINLen, ti.MaxPINLen)
	}
	return pin, nil
}

// login calls C_Login with pin after checking, on the token itself, that the
// PIN is not locked: the prompt may have taken a while.
func (t *Token) login(c cryptoki, s, userType uint, pin []byte) error {
	ti, err := c.GetTokenInfo(t.slot)
	if err != nil {
		return err
	}
	if ti.PINLocked {
		return pinLocked(ti)
	}
	err = c.Login(s, userType, pin)
	if hasCode(err, ck.CKR_USER_ALREADY_LOGGED_IN) {
		return nil
	}
	if errors.Is(err, ErrPINIncorrect) || errors.Is(err, ErrPINLocked) {
		if after, e := c.GetTokenInfo(t.slot); e == nil && after.pinState() != "" {
			return fmt.Errorf("%w (the token now reports: %s)", err, after.pinState())
		}
	}
	return err
}

func pinLocked(ti TokenInfo) error {
	return fmt.Errorf("%w: token %s reports CKF_USER_PIN_LOCKED; no login attempted", ErrPINLocked, ti)
}

// ChangePIN changes the user PIN from oldPIN to newPIN (C_SetPIN). Both are
// checked against the token's length range before anything is sent, and
// nothing is sent to a token that reports its PIN locked. A wrong oldPIN
// costs a try like a wrong login: ErrPINIncorrect.
func (t *Token) ChangePIN(ctx context.Context, oldPIN, newPIN []byte) error {
	ti, err := t.Info(ctx)
	if err != nil {
		return err
	}
	if ti.PINLocked {
		return pinLocked(ti)
	}
	known := func(v uint) bool { return v > 0 && v != ck.CK_UNAVAILABLE_INFORMATION }
	for _, pin := range [][]byte{oldPIN, newPIN} {
		n := uint(len(pin))
		if n == 0 || known(ti.MinPINLen) && n < ti.MinPINLen || known(ti.MaxPINLen) && n > ti.MaxPINLen {
			return fmt.Errorf("%w: the token takes PINs of %d to %d bytes; nothing sent to the token", ErrPINLenRange, ti.MinPINLen, ti.MaxPINLen)
		}
	}
	err = t.do(ctx, func(c cryptoki, s uint) error { return c.SetPIN(s, oldPIN, newPIN) })
	if errors.Is(err, ErrPINIncorrect) {
		if after, e := t.Info(ctx); e == nil && after.pinState() != "" {
			return fmt.Errorf("%w (the token now reports: %s)", err, after.pinState())
		}
	}
	return err
}

// Logout logs the user out of the token (for every Token on it).
func (t *Token) Logout(ctx context.Context) error {
	return t.do(ctx, func(c cryptoki, s uint) error {
		err := c.Logout(s)
		if hasCode(err, ck.CKR_USER_NOT_LOGGED_IN) {
			return nil
		}
		return err
	})
}
