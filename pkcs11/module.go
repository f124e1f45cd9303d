package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	ck "github.com/miekg/pkcs11"
)

// registry holds one loaded, initialised module per path. PKCS#11 allows
// one C_Initialize per library and process (a second one returns
// CKR_CRYPTOKI_ALREADY_INITIALIZED), so every Module opened on the same
// library shares one state, reference-counted; the last Close finalises it.
// This is process state by nature, not configuration.
var registry = struct {
	sync.Mutex
	m map[string]*moduleState
}{m: map[string]*moduleState{}}

// moduleState is one loaded library.
type moduleState struct {
	key      string
	c        cryptoki
	ownsInit bool // C_Initialize succeeded here (not ALREADY_INITIALIZED): finalise on release
	refs     int  // guarded by registry

	// mu is read-held around every C call and write-held to finalise, so
	// that no call runs into a finalised, unloaded library.
	mu   sync.RWMutex
	done bool

	slotMu sync.Mutex
	slots  map[uint]*slotLocks
}

// slotLocks serialise the work on one token across every Token and Module
// handle: op is held for each run of C calls on the token's session, login
// for a whole login including the PIN prompt (so one prompt at a time).
type slotLocks struct {
	op, login ctxMutex
}

// ctxMutex is a mutex whose Lock gives up when the context is done.
type ctxMutex chan struct{}

func (m ctxMutex) Lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case m <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m ctxMutex) Unlock() { <-m }

// acquire returns the state for key, loading and initialising the library
// on first use.
func acquire(ctx context.Context, key string, load func() (cryptoki, error)) (*moduleState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	registry.Lock()
	defer registry.Unlock()
	if st := registry.m[key]; st != nil {
		st.refs++
		return st, nil
	}
	c, err := load()
	if err != nil {
		return nil, err
	}
	owns := true
	if err := c.Initialize(); err != nil {
		if !hasCode(err, ck.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			c.Destroy()
			return nil, fmt.Errorf("%w %s: %w", ErrModuleLoad, key, err)
		}
		// Initialised by other code in this process: share it, leave
		// C_Finalize to that code.
		owns = false
	}
	st := &moduleState{key: key, c: c, ownsInit: owns, refs: 1, slots: map[uint]*slotLocks{}}
	registry.m[key] = st
	return st, nil
}

// release drops a reference; the last one finalises and unloads the library.
func (st *moduleState) release() error {
	registry.Lock()
	defer registry.Unlock()
	st.refs--
	if st.refs > 0 {
		return nil
	}
	delete(registry.m, st.key)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.done = true
	var err error
	if st.ownsInit {
		err = st.c.Finalize()
	}
	st.c.Destroy()
	return err
}

// do runs f unless the library has been finalised.
func (st *moduleState) do(f func(c cryptoki) error) error {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.done {
		return ErrClosed
	}
	return f(st.c)
}

func (st *moduleState) slot(id uint) *slotLocks {
	st.slotMu.Lock()
	defer st.slotMu.Unlock()
	l := st.slots[id]
	if l == nil {
		l = &slotLocks{op: make(ctxMutex, 1), login: make(ctxMutex, 1)}
		st.slots[id] = l
	}
	return l
}

// moduleKey is the registry key of a module path: the absolute path with
// symbolic links resolved, so two names of one file share one state. A bare
// file name (which the loader searches for) is its own key.
func moduleKey(path string) string {
	if !strings.ContainsAny(path, `/\`) {
		return path
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	return path
}

// Module is a loaded PKCS#11 library. It is safe for concurrent use.
// Modules opened on the same library share one initialised context; Close
// each one when done.
type Module struct {
	path string
	st   *moduleState

	mu     sync.Mutex
	closed bool
	tokens map[*Token]struct{}
}

// Open loads the PKCS#11 library at path (a full path, or a bare file name
// the system loader searches for) and initialises it, or shares the context
// already open on the same file. Loading runs the vendor's code in this
// process: load only libraries you trust.
func Open(ctx context.Context, path string) (*Module, error) {
	key := moduleKey(path)
	return openModule(ctx, path, key, func() (cryptoki, error) { return loadCryptoki(key) })
}

// openModule opens the module registered under key, loading it with load
// on first use.
func openModule(ctx context.Context, path, key string, load func() (cryptoki, error)) (*Module, error) {
	st, err := acquire(ctx, key, load)
	if err != nil {
		return nil, err
	}
	return &Module{path: path, st: st, tokens: map[*Token]struct{}{}}, nil
}

// Path returns the path the module was opened with.
func (m *Module) Path() string { return m.path }

// call runs f on the library unless m is closed.
func (m *Module) call(f func(c cryptoki) error) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return m.st.do(f)
}

// Close closes every Token opened through m and releases the library; the
// last Module on a library calls C_Finalize and unloads it. Operations
// under way finish first; later ones fail with ErrClosed.
func (m *Module) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	tokens := m.tokens
	m.tokens = nil
	m.mu.Unlock()
	var errs []error
	for t := range tokens {
		errs = append(errs, t.close())
	}
	errs = append(errs, m.st.release())
	return errors.Join(errs...)
}

// Info returns the library's description (C_GetInfo).
func (m *Module) Info(ctx context.Context) (LibraryInfo, error) {
	var info LibraryInfo
	if err := ctx.Err(); err != nil {
		return info, err
	}
	err := m.call(func(c cryptoki) (err error) {
		info, err = c.GetInfo()
		return err
	})
	return info, err
}

// Slots lists every slot, with or without a token.
func (m *Module) Slots(ctx context.Context) ([]SlotInfo, error) {
	var ids []uint
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err := m.call(func(c cryptoki) (err error) {
		ids, err = c.GetSlotList(false)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]SlotInfo, 0, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var si SlotInfo
		err := m.call(func(c cryptoki) (err error) {
			si, err = c.GetSlotInfo(id)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("slot %d: %w", id, err)
		}
		out = append(out, si)
	}
	return out, nil
}

// Tokens lists the tokens present, including uninitialised ones (see
// TokenInfo.Initialized). A token whose information cannot be read because
// it is being removed or fails (CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_*,
// CKR_GENERAL_ERROR…) is left out: it cannot be used.
func (m *Module) Tokens(ctx context.Context) ([]TokenInfo, error) {
	var ids []uint
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err := m.call(func(c cryptoki) (err error) {
		ids, err = c.GetSlotList(true)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]TokenInfo, 0, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ti TokenInfo
		err := m.call(func(c cryptoki) (err error) {
			ti, err = c.GetTokenInfo(id)
			return err
		})
		if mayMeanRemoval(err) {
			continue // pulled out while being listed, or unreadable: not usable
		}
		if err != nil {
			return nil, fmt.Errorf("slot %d: %w", id, err)
		}
		out = append(out, ti)
	}
	return out, nil
}

// Selector chooses a token by label and serial number; empty fields match
// any value. The zero Selector matches the only initialised token present.
// Slot numbers are not stable (SoftHSM renumbers after initialising a token,
// readers come and go): select by label or serial.
type Selector struct {
	Label  string
	Serial string
}

func (s Selector) matches(t TokenInfo) bool {
	return t.Initialized && (s.Label == "" || s.Label == t.Label) && (s.Serial == "" || s.Serial == t.Serial)
}

// OpenToken opens a session with the token sel selects. ui supplies the PIN
// when a login is needed (see Token.Login); it may be the zero UI for
// public operations only.
func (m *Module) OpenToken(ctx context.Context, sel Selector, ui UI) (*Token, error) {
	infos, err := m.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	var found []TokenInfo
	var seen []string
	for _, ti := range infos {
		seen = append(seen, ti.String())
		if sel.matches(ti) {
			found = append(found, ti)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%w: label %q serial %q in %s among %d present %v", ErrTokenNotFound, sel.Label, sel.Serial, m.path, len(infos), seen)
	case 1:
		return m.open(ctx, found[0], ui)
	}
	return nil, fmt.Errorf("%w: label %q serial %q: %v", ErrTokenAmbiguous, sel.Label, sel.Serial, seen)
}

// OpenSlot opens a session with the token in slot id.
func (m *Module) OpenSlot(ctx context.Context, id uint, ui UI) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var ti TokenInfo
	err := m.call(func(c cryptoki) (err error) {
		ti, err = c.GetTokenInfo(id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("slot %d: %w", id, err)
	}
	return m.open(ctx, ti, ui)
}
