//go:build cgo && !pkcs11purego

package pkcs11

import (
	"errors"
	"fmt"
	"unsafe"

	ck "github.com/miekg/pkcs11"
)

// loadCryptoki loads the module at path (dlopen / LoadLibrary) and reads its
// function list. It does not call C_Initialize.
func loadCryptoki(path string) (cryptoki, error) {
	c := ck.New(path)
	if c == nil {
		return nil, fmt.Errorf("%w %s: %s", ErrModuleLoad, path, loadError(path))
	}
	return &ckModule{c: c}, nil
}

// ckModule is cryptoki over github.com/miekg/pkcs11.
type ckModule struct{ c *ck.Ctx }

// fail converts an error of github.com/miekg/pkcs11 into an *Error.
func fail(fn string, err error) error {
	if err == nil {
		return nil
	}
	var e ck.Error
	if errors.As(err, &e) {
		return &Error{Func: fn, Code: uint(e)}
	}
	return fmt.Errorf("pkcs11: %s: %w", fn, err)
}

func (m *ckModule) Initialize() error { return fail("C_Initialize", m.c.Initialize()) }
func (m *ckModule) Finalize() error   { return fail("C_Finalize", m.c.Finalize()) }
func (m *ckModule) Destroy()          { m.c.Destroy() }

func version(v ck.Version) string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

func (m *ckModule) GetInfo() (LibraryInfo, error) {
	i, err := m.c.GetInfo()
	if err != nil {
		return LibraryInfo{}, fail("C_GetInfo", err)
	}
	return LibraryInfo{
		Cryptoki:     version(i.CryptokiVersion),
		Manufacturer: i.ManufacturerID,
		Description:  i.LibraryDescription,
		Version:      version(i.LibraryVersion),
	}, nil
}

func (m *ckModule) GetSlotList(tokenPresent bool) ([]uint, error) {
	l, err := m.c.GetSlotList(tokenPresent)
	return l, fail("C_GetSlotList", err)
}

func (m *ckModule) GetSlotInfo(slot uint) (SlotInfo, error) {
	s, err := m.c.GetSlotInfo(slot)
	if err != nil {
		return SlotInfo{}, fail("C_GetSlotInfo", err)
	}
	return SlotInfo{
		ID:           slot,
		Description:  s.SlotDescription,
		Manufacturer: s.ManufacturerID,
		TokenPresent: s.Flags&ck.CKF_TOKEN_PRESENT != 0,
		Removable:    s.Flags&ck.CKF_REMOVABLE_DEVICE != 0,
		Hardware:     s.Flags&ck.CKF_HW_SLOT != 0,
	}, nil
}

func (m *ckModule) GetTokenInfo(slot uint) (TokenInfo, error) {
	t, err := m.c.GetTokenInfo(slot)
	if err != nil {
		return TokenInfo{}, fail("C_GetTokenInfo", err)
	}
	return newTokenInfo(slot, t.Label, t.ManufacturerID, t.Model, t.SerialNumber, t.Flags, t.MinPinLen, t.MaxPinLen), nil
}

func (m *ckModule) GetMechanismList(slot uint) ([]uint, error) {
	ms, err := m.c.GetMechanismList(slot)
	if err != nil {
		return nil, fail("C_GetMechanismList", err)
	}
	out := make([]uint, len(ms))
	for i, x := range ms {
		out[i] = x.Mechanism
	}
	return out, nil
}

func (m *ckModule) OpenSession(slot, flags uint) (uint, error) {
	s, err := m.c.OpenSession(slot, flags)
	return uint(s), fail("C_OpenSession", err)
}

func (m *ckModule) CloseSession(session uint) error {
	return fail("C_CloseSession", m.c.CloseSession(ck.SessionHandle(session)))
}

func (m *ckModule) GetSessionState(session uint) (uint, error) {
	i, err := m.c.GetSessionInfo(ck.SessionHandle(session))
	return i.State, fail("C_GetSessionInfo", err)
}

// Login passes pin to C_Login without making a Go string copy of it:
// github.com/miekg/pkcs11 copies the string into C memory for the call and
// frees it (unzeroed: that copy is out of this package's reach). An empty
// pin is passed as NULL, for protected authentication paths.
func (m *ckModule) Login(session, userType uint, pin []byte) error {
	var s string
	if len(pin) > 0 {
		s = unsafe.String(&pin[0], len(pin))
	}
	return fail("C_Login", m.c.Login(ck.SessionHandle(session), userType, s))
}

// SetPIN changes the PIN of the user logged in to the session, or of the
// user the old PIN authenticates (C_SetPIN in a read/write session).
func (m *ckModule) SetPIN(session uint, oldPIN, newPIN []byte) error {
	return fail("C_SetPIN", m.c.SetPIN(ck.SessionHandle(session), string(oldPIN), string(newPIN)))
}

func (m *ckModule) Logout(session uint) error {
	return fail("C_Logout", m.c.Logout(ck.SessionHandle(session)))
}

func ckAttributes(tmpl []attribute) []*ck.Attribute {
	out := make([]*ck.Attribute, len(tmpl))
	for i, a := range tmpl {
		out[i] = ck.NewAttribute(a.Type, a.Value)
	}
	return out
}

func (m *ckModule) FindObjects(session uint, template []attribute) ([]uint, error) {
	sh := ck.SessionHandle(session)
	if err := m.c.FindObjectsInit(sh, ckAttributes(template)); err != nil {
		return nil, fail("C_FindObjectsInit", err)
	}
	var out []uint
	for {
		hs, _, err := m.c.FindObjects(sh, 64)
		if err != nil {
			_ = m.c.FindObjectsFinal(sh) // the search failed already; end it whatever this returns
			return nil, fail("C_FindObjects", err)
		}
		for _, h := range hs {
			out = append(out, uint(h))
		}
		if len(hs) == 0 {
			break
		}
	}
	return out, fail("C_FindObjectsFinal", m.c.FindObjectsFinal(sh))
}

func (m *ckModule) GetAttributeValue(session, object, typ uint) ([]byte, error) {
	as, err := m.c.GetAttributeValue(ck.SessionHandle(session), ck.ObjectHandle(object), []*ck.Attribute{ck.NewAttribute(typ, nil)})
	if err != nil {
		return nil, fail("C_GetAttributeValue", err)
	}
	return as[0].Value, nil
}

func ckMechanism(m mechanism) []*ck.Mechanism {
	if m.PSS != nil {
		return []*ck.Mechanism{ck.NewMechanism(m.Type, ck.NewPSSParams(m.PSS.Hash, m.PSS.MGF, m.PSS.SaltLen))}
	}
	if m.Param != nil {
		return []*ck.Mechanism{ck.NewMechanism(m.Type, m.Param)}
	}
	return []*ck.Mechanism{ck.NewMechanism(m.Type, nil)}
}

func (m *ckModule) GenerateKeyPair(session uint, mech mechanism, public, private []attribute) (uint, uint, error) {
	pub, priv, err := m.c.GenerateKeyPair(ck.SessionHandle(session), ckMechanism(mech), ckAttributes(public), ckAttributes(private))
	return uint(pub), uint(priv), fail("C_GenerateKeyPair", err)
}

func (m *ckModule) SignInit(session uint, mech mechanism, key uint) error {
	return fail("C_SignInit", m.c.SignInit(ck.SessionHandle(session), ckMechanism(mech), ck.ObjectHandle(key)))
}

func (m *ckModule) Sign(session uint, data []byte) ([]byte, error) {
	sig, err := m.c.Sign(ck.SessionHandle(session), data)
	return sig, fail("C_Sign", err)
}
