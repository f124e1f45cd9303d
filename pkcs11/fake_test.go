package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	ck "github.com/miekg/pkcs11"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

// fakeModule is a PKCS#11 module in Go for what SoftHSM cannot show: PIN
// counters that lock, PIN pads, GOST mechanisms, tokens coming and going.
// It implements cryptoki with the semantics of the C API (per-token login,
// sign operations that C_Sign ends, CKR codes) but is not the C ABI: the
// SoftHSM tests cover that.
type fakeModule struct {
	mu       sync.Mutex
	tokens   map[uint]*fakeToken // by slot
	sessions map[uint]*fakeSession
	next     uint
	calls    map[string]int
	// finalized records C_Finalize; initErr is what C_Initialize returns.
	finalized bool
	initErr   error
	// inits records every C_SignInit mechanism, accepted or not;
	// genPub and genPriv the templates of the last C_GenerateKeyPair.
	inits           []mechanism
	genPub, genPriv map[uint][]byte
}

type fakeToken struct {
	label, serial  string
	flags          uint
	minPIN, maxPIN uint
	pin            string
	maxTries       int // wrong PINs before the PIN locks; 0: never
	wrong          int
	loggedIn       bool
	mechs          []uint
	needsParam     bool // the hash-on-token mechanisms need the Streebog OID parameter
	readOnly       bool // the token refuses read/write sessions
	objects        map[uint]*fakeObject
}

type fakeObject struct {
	attrs map[uint][]byte
	key   *gost3410.PrivateKey // for private GOST keys
}

type fakeSession struct {
	slot      uint
	mech      *mechanism
	key       uint
	ctxLogged bool
}

func newFakeModule() *fakeModule {
	return &fakeModule{tokens: map[uint]*fakeToken{}, sessions: map[uint]*fakeSession{}, next: 100, calls: map[string]int{}}
}

// newFakeToken is an initialised token that requires login, with PIN
// "123456" of 4 to 16 bytes and the flags a token sets on its own.
func newFakeToken(label string, maxTries int, mechs ...uint) *fakeToken {
	return &fakeToken{
		label: label, serial: "SN-" + label, pin: "123456", minPIN: 4, maxPIN: 16, maxTries: maxTries,
		flags: ck.CKF_LOGIN_REQUIRED | ck.CKF_USER_PIN_INITIALIZED | ck.CKF_TOKEN_INITIALIZED,
		mechs: mechs, objects: map[uint]*fakeObject{},
	}
}

func (f *fakeModule) count(fn string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[fn]
}

func (f *fakeModule) called(fn string) { f.calls[fn]++ }

func fakeErr(fn string, code uint) error { return &Error{Func: fn, Code: code} }

// add puts object attrs (and key, for a private GOST key) on the token.
func (f *fakeModule) add(slot uint, attrs map[uint][]byte, key *gost3410.PrivateKey) uint {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	f.tokens[slot].objects[f.next] = &fakeObject{attrs: attrs, key: key}
	return f.next
}

func ul(v uint) []byte { return binary.NativeEndian.AppendUint64(nil, uint64(v)) }

// fakeKeys numbers the registry keys of fake modules.
var fakeKeys atomic.Int64

// openFake opens a Module over f under a registry key of its own.
func openFake(t *testing.T, f *fakeModule) *Module {
	t.Helper()
	key := fmt.Sprintf("fake:%s:%d", t.Name(), fakeKeys.Add(1))
	m, err := openModule(context.Background(), key, key, func() (cryptoki, error) { return f, nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func (f *fakeModule) Initialize() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("C_Initialize")
	return f.initErr
}

func (f *fakeModule) Finalize() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("C_Finalize")
	f.finalized = true
	return nil
}

func (f *fakeModule) Destroy() {}

func (f *fakeModule) GetInfo() (LibraryInfo, error) {
	return LibraryInfo{Cryptoki: "2.40", Manufacturer: "kep", Description: "fake", Version: "1.0"}, nil
}

func (f *fakeModule) GetSlotList(bool) ([]uint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []uint
	for s := range f.tokens {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

func (f *fakeModule) GetSlotInfo(slot uint) (SlotInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.tokens[slot]
	return SlotInfo{ID: slot, Description: "fake reader", TokenPresent: ok, Removable: true}, nil
}

func (f *fakeModule) token(fn string, slot uint) (*fakeToken, error) {
	t, ok := f.tokens[slot]
	if !ok {
		return nil, fakeErr(fn, ck.CKR_TOKEN_NOT_PRESENT)
	}
	return t, nil
}

func (f *fakeModule) GetTokenInfo(slot uint) (TokenInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("C_GetTokenInfo")
	t, err := f.token("C_GetTokenInfo", slot)
	if err != nil {
		return TokenInfo{}, err
	}
	return newTokenInfo(slot, t.label, "kep", "fake", t.serial, t.flags, t.minPIN, t.maxPIN), nil
}

func (f *fakeModule) GetMechanismList(slot uint) ([]uint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.token("C_GetMechanismList", slot)
	if err != nil {
		return nil, err
	}
	if t.mechs == nil {
		return nil, fakeErr("C_GetMechanismList", ck.CKR_FUNCTION_NOT_SUPPORTED)
	}
	return slices.Clone(t.mechs), nil
}

func (f *fakeModule) OpenSession(slot, flags uint) (uint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.token("C_OpenSession", slot)
	if err != nil {
		return 0, err
	}
	if t.readOnly && flags&ck.CKF_RW_SESSION != 0 {
		return 0, fakeErr("C_OpenSession", ck.CKR_TOKEN_WRITE_PROTECTED)
	}
	f.next++
	f.sessions[f.next] = &fakeSession{slot: slot}
	return f.next, nil
}

// session returns a session and its token, or the error a removed token gives.
func (f *fakeModule) session(fn string, s uint) (*fakeSession, *fakeToken, error) {
	ss, ok := f.sessions[s]
	if !ok {
		return nil, nil, fakeErr(fn, ck.CKR_SESSION_HANDLE_INVALID)
	}
	t, ok := f.tokens[ss.slot]
	if !ok {
		delete(f.sessions, s)
		return nil, nil, fakeErr(fn, ck.CKR_DEVICE_REMOVED)
	}
	return ss, t, nil
}

func (f *fakeModule) CloseSession(s uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, _, err := f.session("C_CloseSession", s); err != nil {
		return err
	}
	delete(f.sessions, s)
	return nil
}

func (f *fakeModule) GetSessionState(s uint) (uint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, t, err := f.session("C_GetSessionInfo", s)
	if err != nil {
		return 0, err
	}
	if t.loggedIn {
		return ck.CKS_RW_USER_FUNCTIONS, nil
	}
	return ck.CKS_RW_PUBLIC_SESSION, nil
}

// Login counts wrong PINs as a token with maxTries tries does: COUNT_LOW
// after the first, FINAL_TRY when one is left, LOCKED (CKR_PIN_LOCKED) when
// none is; a good PIN clears them.
func (f *fakeModule) Login(s, userType uint, pin []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("C_Login")
	ss, t, err := f.session("C_Login", s)
	if err != nil {
		return err
	}
	if t.flags&ck.CKF_USER_PIN_LOCKED != 0 {
		return fakeErr("C_Login", ck.CKR_PIN_LOCKED)
	}
	if userType == ck.CKU_USER && t.loggedIn {
		return fakeErr("C_Login", ck.CKR_USER_ALREADY_LOGGED_IN)
	}
	ok := string(pin) == t.pin
	if t.flags&ck.CKF_PROTECTED_AUTHENTICATION_PATH != 0 {
		ok = pin == nil // the PIN pad asks; the fake's user types it right
	}
	if !ok {
		t.wrong++
		t.flags |= ck.CKF_USER_PIN_COUNT_LOW
		if t.maxTries > 0 && t.wrong == t.maxTries-1 {
			t.flags |= ck.CKF_USER_PIN_FINAL_TRY
		}
		if t.maxTries > 0 && t.wrong >= t.maxTries {
			t.flags = t.flags&^ck.CKF_USER_PIN_FINAL_TRY | ck.CKF_USER_PIN_LOCKED
			return fakeErr("C_Login", ck.CKR_PIN_LOCKED)
		}
		return fakeErr("C_Login", ck.CKR_PIN_INCORRECT)
	}
	t.wrong = 0
	t.flags &^= ck.CKF_USER_PIN_COUNT_LOW | ck.CKF_USER_PIN_FINAL_TRY
	if userType == ck.CKU_CONTEXT_SPECIFIC {
		ss.ctxLogged = true
	} else {
		t.loggedIn = true
	}
	return nil
}

func (f *fakeModule) SetPIN(s uint, oldPIN, newPIN []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("C_SetPIN")
	_, t, err := f.session("C_SetPIN", s)
	if err != nil {
		return err
	}
	if t.flags&ck.CKF_USER_PIN_LOCKED != 0 {
		return fakeErr("C_SetPIN", ck.CKR_PIN_LOCKED)
	}
	if string(oldPIN) != t.pin {
		t.wrong++
		t.flags |= ck.CKF_USER_PIN_COUNT_LOW
		if t.maxTries > 0 && t.wrong >= t.maxTries {
			t.flags |= ck.CKF_USER_PIN_LOCKED
			return fakeErr("C_SetPIN", ck.CKR_PIN_LOCKED)
		}
		return fakeErr("C_SetPIN", ck.CKR_PIN_INCORRECT)
	}
	if uint(len(newPIN)) < t.minPIN || t.maxPIN > 0 && uint(len(newPIN)) > t.maxPIN {
		return fakeErr("C_SetPIN", ck.CKR_PIN_LEN_RANGE)
	}
	t.wrong = 0
	t.flags &^= ck.CKF_USER_PIN_COUNT_LOW | ck.CKF_USER_PIN_FINAL_TRY | ck.CKF_USER_PIN_TO_BE_CHANGED
	t.pin = string(newPIN)
	return nil
}

func (f *fakeModule) Logout(s uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, t, err := f.session("C_Logout", s)
	if err != nil {
		return err
	}
	if !t.loggedIn {
		return fakeErr("C_Logout", ck.CKR_USER_NOT_LOGGED_IN)
	}
	t.loggedIn = false
	return nil
}

// visible reports whether the session may see the object: private objects
// need the login.
func (t *fakeToken) visible(o *fakeObject) bool {
	p := o.attrs[ck.CKA_PRIVATE]
	return t.loggedIn || len(p) == 0 || p[0] == 0
}

func (f *fakeModule) FindObjects(s uint, tmpl []attribute) ([]uint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, t, err := f.session("C_FindObjectsInit", s)
	if err != nil {
		return nil, err
	}
	var out []uint
	for h, o := range t.objects {
		match := t.visible(o)
		for _, a := range tmpl {
			var want []byte
			switch v := a.Value.(type) {
			case uint:
				want = ul(v)
			case []byte:
				want = v
			default:
				panic("fake: template value type")
			}
			match = match && bytes.Equal(o.attrs[a.Type], want)
		}
		if match {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (f *fakeModule) GetAttributeValue(s, obj, typ uint) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, t, err := f.session("C_GetAttributeValue", s)
	if err != nil {
		return nil, err
	}
	o, ok := t.objects[obj]
	if !ok || !t.visible(o) {
		return nil, fakeErr("C_GetAttributeValue", ck.CKR_OBJECT_HANDLE_INVALID)
	}
	v, ok := o.attrs[typ]
	if !ok {
		return nil, fakeErr("C_GetAttributeValue", ck.CKR_ATTRIBUTE_TYPE_INVALID)
	}
	return bytes.Clone(v), nil
}

// attrMap turns a template into attribute values as a module stores them.
func attrMap(tmpl []attribute) map[uint][]byte {
	m := map[uint][]byte{}
	for _, a := range tmpl {
		switch v := a.Value.(type) {
		case bool:
			m[a.Type] = []byte{0}
			if v {
				m[a.Type] = []byte{1}
			}
		case uint:
			m[a.Type] = ul(v)
		case string:
			m[a.Type] = []byte(v)
		case []byte:
			m[a.Type] = v
		default:
			panic("fake: template value type")
		}
	}
	return m
}

// GenerateKeyPair makes GOST key pairs only, checking the templates as a
// GOST token does: key type, mechanism and parameter sizes agree.
func (f *fakeModule) GenerateKeyPair(s uint, m mechanism, public, private []attribute) (uint, uint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	const fn = "C_GenerateKeyPair"
	_, t, err := f.session(fn, s)
	if err != nil {
		return 0, 0, err
	}
	if !t.loggedIn {
		return 0, 0, fakeErr(fn, ck.CKR_USER_NOT_LOGGED_IN)
	}
	pub, priv := attrMap(public), attrMap(private)
	f.genPub, f.genPriv = pub, priv
	kt, bits := uint(CKK_GOSTR3410), 256
	switch m.Type {
	case CKM_GOSTR3410_KEY_PAIR_GEN:
	case CKM_GOSTR3410_512_KEY_PAIR_GEN:
		kt, bits = CKK_GOSTR3410_512, 512
	default:
		return 0, 0, fakeErr(fn, ck.CKR_MECHANISM_INVALID)
	}
	if !bytes.Equal(pub[ck.CKA_KEY_TYPE], ul(kt)) || !bytes.Equal(priv[ck.CKA_KEY_TYPE], ul(kt)) {
		return 0, 0, fakeErr(fn, ck.CKR_TEMPLATE_INCONSISTENT)
	}
	ps, err := gostParamSet(kt, pub[CKA_GOSTR3410_PARAMS])
	if err != nil || ps.BitSize() != bits || !bytes.Equal(pub[CKA_GOSTR3411_PARAMS], gostDigestParams(ps)) {
		return 0, 0, fakeErr(fn, ck.CKR_TEMPLATE_INCONSISTENT)
	}
	key, err := gost3410.GenerateKey(ps, nil)
	if err != nil {
		return 0, 0, fakeErr(fn, ck.CKR_FUNCTION_FAILED)
	}
	pub[ck.CKA_VALUE] = key.PublicKey().Bytes()
	f.next++
	t.objects[f.next] = &fakeObject{attrs: pub}
	f.next++
	t.objects[f.next] = &fakeObject{attrs: priv, key: key}
	return f.next - 1, f.next, nil
}

func (f *fakeModule) SignInit(s uint, m mechanism, key uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("C_SignInit")
	f.inits = append(f.inits, m)
	ss, t, err := f.session("C_SignInit", s)
	if err != nil {
		return err
	}
	if ss.mech != nil {
		return fakeErr("C_SignInit", ck.CKR_OPERATION_ACTIVE)
	}
	o, ok := t.objects[key]
	if !ok || !t.visible(o) || o.key == nil {
		return fakeErr("C_SignInit", ck.CKR_KEY_HANDLE_INVALID)
	}
	if t.mechs != nil && !slices.Contains(t.mechs, m.Type) {
		return fakeErr("C_SignInit", ck.CKR_MECHANISM_INVALID)
	}
	onToken := m.Type == CKM_GOSTR3410_WITH_GOSTR3411_12_256 || m.Type == CKM_GOSTR3410_WITH_GOSTR3411_12_512
	if (onToken && t.needsParam) != (m.Param != nil) {
		return fakeErr("C_SignInit", ck.CKR_MECHANISM_PARAM_INVALID)
	}
	ss.mech, ss.key, ss.ctxLogged = &m, key, false
	return nil
}

func (f *fakeModule) Sign(s uint, data []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.called("C_Sign")
	ss, t, err := f.session("C_Sign", s)
	if err != nil {
		return nil, err
	}
	if ss.mech == nil {
		return nil, fakeErr("C_Sign", ck.CKR_OPERATION_NOT_INITIALIZED)
	}
	m, o := ss.mech, t.objects[ss.key]
	ss.mech = nil // C_Sign ends the operation
	if aa := o.attrs[ck.CKA_ALWAYS_AUTHENTICATE]; len(aa) == 1 && aa[0] == 1 && !ss.ctxLogged {
		return nil, fakeErr("C_Sign", ck.CKR_USER_NOT_LOGGED_IN)
	}
	digest := data
	switch m.Type {
	case CKM_GOSTR3410_WITH_GOSTR3411_12_256, CKM_GOSTR3410_WITH_GOSTR3411_12_512:
		digest = streebogSum(o.key.Params(), data)
	}
	return o.key.Sign(nil, digest, crypto.Hash(0))
}

// addGOST puts a GOST key pair and certificate on the token in slot: the
// private key (hidden until login), its public key object with CKA_VALUE in
// the given form ("bare", "wrapped", or "none" for no public object) and,
// when certDER is not nil, the certificate. All share id.
func (f *fakeModule) addGOST(slot uint, key *gost3410.PrivateKey, id []byte, label, pubForm string, certDER []byte) {
	ps := key.Params()
	kt := uint(CKK_GOSTR3410)
	if ps.Size() == 64 {
		kt = CKK_GOSTR3410_512
	}
	common := func(class uint, private bool) map[uint][]byte {
		p := byte(0)
		if private {
			p = 1
		}
		return map[uint][]byte{ck.CKA_CLASS: ul(class), ck.CKA_ID: id, ck.CKA_LABEL: []byte(label), ck.CKA_PRIVATE: {p}}
	}
	priv := common(ck.CKO_PRIVATE_KEY, true)
	priv[ck.CKA_KEY_TYPE] = ul(kt)
	priv[CKA_GOSTR3410_PARAMS] = oidDER(ps.OID)
	priv[CKA_GOSTR3411_PARAMS] = gostDigestParams(ps)
	f.add(slot, priv, key)
	if pubForm != "none" {
		pub := common(ck.CKO_PUBLIC_KEY, false)
		pub[ck.CKA_KEY_TYPE] = ul(kt)
		pub[CKA_GOSTR3410_PARAMS] = oidDER(ps.OID)
		pub[ck.CKA_VALUE] = key.PublicKey().Bytes()
		if pubForm == "wrapped" {
			pub[ck.CKA_VALUE] = gostkey.MarshalPublicKeyValue(key.PublicKey())
		}
		f.add(slot, pub, nil)
	}
	if certDER != nil {
		c := common(ck.CKO_CERTIFICATE, false)
		c[ck.CKA_CERTIFICATE_TYPE] = ul(ck.CKC_X_509)
		c[ck.CKA_VALUE] = certDER
		f.add(slot, c, nil)
	}
}
