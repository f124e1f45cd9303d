//go:build (!cgo || pkcs11purego) && (linux || darwin || windows) && (amd64 || arm64)

package pkcs11

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/ebitengine/purego"
	ck "github.com/miekg/pkcs11"
)

// The cgo-free loader: the module is opened with dlopen (Linux, macOS;
// through purego, which needs no C toolchain) or LoadLibrary (Windows), and
// its functions are called through the pointers of the CK_FUNCTION_LIST
// that C_GetFunctionList returns, with purego.SyscallN. Structures are
// written and read as bytes laid out by nativeABI (abi.go), pointers to Go
// memory are pinned for the duration of a call.
//
// It is the loader of builds without cgo (macOS and Windows releases) and,
// with the build tag pkcs11purego, of a cgo build too (which is how the
// tests run it on Linux beside the cgo loader).

// Indexes into CK_FUNCTION_LIST (PKCS#11 v2.40 order).
const (
	fnInitialize        = 0
	fnFinalize          = 1
	fnGetInfo           = 2
	fnGetSlotList       = 4
	fnGetSlotInfo       = 5
	fnGetTokenInfo      = 6
	fnGetMechanismList  = 7
	fnSetPIN            = 11
	fnOpenSession       = 12
	fnCloseSession      = 13
	fnGetSessionInfo    = 15
	fnLogin             = 18
	fnLogout            = 19
	fnGetAttributeValue = 24
	fnFindObjectsInit   = 26
	fnFindObjects       = 27
	fnFindObjectsFinal  = 28
	fnSignInit          = 42
	fnSign              = 43
	fnGenerateKeyPair   = 59
	fnCount             = 68
)

// pureModule is cryptoki over a module's function list.
type pureModule struct {
	lib libHandle
	fn  [fnCount]uintptr
	abi abi
}

// loadCryptoki loads the module at path and reads its function list. It
// does not call C_Initialize.
func loadCryptoki(path string) (cryptoki, error) {
	lib, getList, err := openLibrary(path)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrModuleLoad, path, err)
	}
	m := &pureModule{lib: lib, abi: nativeABI}
	var list unsafe.Pointer // CK_FUNCTION_LIST_PTR, the module's static memory
	r, _, _ := purego.SyscallN(getList, uintptr(unsafe.Pointer(&list)))
	if rv := uint(r) & m.abi.ulongMask(); rv != ck.CKR_OK || list == nil {
		closeLibrary(lib)
		if rv == ck.CKR_OK {
			return nil, fmt.Errorf("%w %s: C_GetFunctionList returned no list", ErrModuleLoad, path)
		}
		return nil, fmt.Errorf("%w %s: %w", ErrModuleLoad, path, &Error{Func: "C_GetFunctionList", Code: rv})
	}
	// The list is valid until the module is unloaded.
	base := unsafe.Slice((*byte)(list), m.abi.functionOffset(fnCount-1)+m.abi.ptr)
	for i := range m.fn {
		off := m.abi.functionOffset(i)
		var p uintptr
		for j := m.abi.ptr - 1; j >= 0; j-- { // little-endian, possibly unaligned (Windows packing)
			p = p<<8 | uintptr(base[off+j])
		}
		m.fn[i] = p
	}
	return m, nil
}

// call runs function i of the list and converts its CK_RV.
func (m *pureModule) call(name string, i int, args ...uintptr) error {
	f := m.fn[i]
	if f == 0 {
		return &Error{Func: name, Code: ck.CKR_FUNCTION_NOT_SUPPORTED}
	}
	r, _, _ := purego.SyscallN(f, args...)
	if rv := uint(r) & m.abi.ulongMask(); rv != ck.CKR_OK {
		return &Error{Func: name, Code: rv}
	}
	return nil
}

// cbuf is memory handed to the module: Go memory, pinned while a call may
// hold a pointer to it.
type cbuf struct{ p runtime.Pinner }

// bytes returns n bytes of pinned memory and their address (0 for n == 0).
func (c *cbuf) bytes(n int) ([]byte, uintptr) {
	if n == 0 {
		return nil, 0
	}
	b := make([]byte, n)
	c.p.Pin(&b[0])
	return b, uintptr(unsafe.Pointer(&b[0]))
}

// of pins b as it is (a PIN or data to sign: no copy is made).
func (c *cbuf) of(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	c.p.Pin(&b[0])
	return uintptr(unsafe.Pointer(&b[0]))
}

func (c *cbuf) done() { c.p.Unpin() }

// ulong is a pinned CK_ULONG the module writes to.
func (m *pureModule) ulong(c *cbuf) ([]byte, uintptr) { return c.bytes(m.abi.ulong) }

func (m *pureModule) Initialize() error {
	var c cbuf
	defer c.done()
	off, size := m.abi.initArgs()
	args, p := c.bytes(size)
	m.abi.putULong(args, off[4], ck.CKF_OS_LOCKING_OK) // no mutex callbacks: the OS's locking
	return m.call("C_Initialize", fnInitialize, p)
}

func (m *pureModule) Finalize() error { return m.call("C_Finalize", fnFinalize, 0) }

func (m *pureModule) Destroy() { closeLibrary(m.lib) }

func versionString(b []byte) string { return fmt.Sprintf("%d.%d", b[0], b[1]) }

func (m *pureModule) GetInfo() (LibraryInfo, error) {
	var c cbuf
	defer c.done()
	off, size := m.abi.info()
	b, p := c.bytes(size)
	if err := m.call("C_GetInfo", fnGetInfo, p); err != nil {
		return LibraryInfo{}, err
	}
	return LibraryInfo{
		Cryptoki:     versionString(b[off[0]:]),
		Manufacturer: padded(b[off[1] : off[1]+32]),
		Description:  padded(b[off[3] : off[3]+32]),
		Version:      versionString(b[off[4]:]),
	}, nil
}

// ulongList runs a two-call PKCS#11 list function (NULL buffer for the
// count, then the buffer), again while the list grows in between.
func (m *pureModule) ulongList(name string, i int, args ...uintptr) ([]uint, error) {
	for {
		var c cbuf
		cnt, pc := m.ulong(&c)
		if err := m.call(name, i, append(args, 0, pc)...); err != nil {
			c.done()
			return nil, err
		}
		n := m.abi.getULong(cnt, 0)
		if n == 0 {
			c.done()
			return []uint{}, nil
		}
		buf, pb := c.bytes(int(n) * m.abi.ulong)
		err := m.call(name, i, append(args, pb, pc)...)
		if e, ok := err.(*Error); ok && e.Code == ck.CKR_BUFFER_TOO_SMALL {
			c.done()
			continue
		}
		if err != nil {
			c.done()
			return nil, err
		}
		n = m.abi.getULong(cnt, 0)
		out := make([]uint, n)
		for j := range out {
			out[j] = m.abi.getULong(buf, j*m.abi.ulong)
		}
		c.done()
		return out, nil
	}
}

func (m *pureModule) GetSlotList(tokenPresent bool) ([]uint, error) {
	var present uintptr
	if tokenPresent {
		present = 1
	}
	return m.ulongList("C_GetSlotList", fnGetSlotList, present)
}

func (m *pureModule) GetSlotInfo(slot uint) (SlotInfo, error) {
	var c cbuf
	defer c.done()
	off, size := m.abi.slotInfo()
	b, p := c.bytes(size)
	if err := m.call("C_GetSlotInfo", fnGetSlotInfo, uintptr(slot), p); err != nil {
		return SlotInfo{}, err
	}
	flags := m.abi.getULong(b, off[2])
	return SlotInfo{
		ID:           slot,
		Description:  padded(b[off[0] : off[0]+64]),
		Manufacturer: padded(b[off[1] : off[1]+32]),
		TokenPresent: flags&ck.CKF_TOKEN_PRESENT != 0,
		Removable:    flags&ck.CKF_REMOVABLE_DEVICE != 0,
		Hardware:     flags&ck.CKF_HW_SLOT != 0,
	}, nil
}

func (m *pureModule) GetTokenInfo(slot uint) (TokenInfo, error) {
	var c cbuf
	defer c.done()
	off, size := m.abi.tokenInfo()
	b, p := c.bytes(size)
	if err := m.call("C_GetTokenInfo", fnGetTokenInfo, uintptr(slot), p); err != nil {
		return TokenInfo{}, err
	}
	u := func(i int) uint { return m.abi.getULong(b, off[i]) }
	// Fields: label, manufacturerID, model, serialNumber, flags,
	// ulMaxSessionCount, ulSessionCount, ulMaxRwSessionCount,
	// ulRwSessionCount, ulMaxPinLen (9), ulMinPinLen (10), …
	return newTokenInfo(slot, padded(b[off[0]:off[0]+32]), padded(b[off[1]:off[1]+32]),
		padded(b[off[2]:off[2]+16]), padded(b[off[3]:off[3]+16]), u(4), u(10), u(9)), nil
}

func (m *pureModule) GetMechanismList(slot uint) ([]uint, error) {
	return m.ulongList("C_GetMechanismList", fnGetMechanismList, uintptr(slot))
}

func (m *pureModule) OpenSession(slot, flags uint) (uint, error) {
	var c cbuf
	defer c.done()
	h, p := m.ulong(&c)
	if err := m.call("C_OpenSession", fnOpenSession, uintptr(slot), uintptr(flags), 0, 0, p); err != nil {
		return 0, err
	}
	return m.abi.getULong(h, 0), nil
}

func (m *pureModule) CloseSession(session uint) error {
	return m.call("C_CloseSession", fnCloseSession, uintptr(session))
}

func (m *pureModule) GetSessionState(session uint) (uint, error) {
	var c cbuf
	defer c.done()
	off, size := m.abi.sessionInfo()
	b, p := c.bytes(size)
	if err := m.call("C_GetSessionInfo", fnGetSessionInfo, uintptr(session), p); err != nil {
		return 0, err
	}
	return m.abi.getULong(b, off[1]), nil
}

// Login passes the caller's pin bytes themselves to C_Login: no copy is
// made, so wiping pin afterwards wipes the only copy outside the module.
// An empty pin is passed as NULL, for protected authentication paths.
func (m *pureModule) Login(session, userType uint, pin []byte) error {
	var c cbuf
	defer c.done()
	return m.call("C_Login", fnLogin, uintptr(session), uintptr(userType), c.of(pin), uintptr(len(pin)))
}

func (m *pureModule) Logout(session uint) error {
	return m.call("C_Logout", fnLogout, uintptr(session))
}

func (m *pureModule) SetPIN(session uint, oldPIN, newPIN []byte) error {
	var c cbuf
	defer c.done()
	return m.call("C_SetPIN", fnSetPIN, uintptr(session), c.of(oldPIN), uintptr(len(oldPIN)), c.of(newPIN), uintptr(len(newPIN)))
}

// template lays out a CK_ATTRIBUTE array in pinned memory.
func (m *pureModule) template(c *cbuf, tmpl []attribute) (uintptr, uintptr) {
	if len(tmpl) == 0 {
		return 0, 0
	}
	off, size := m.abi.attribute()
	b, p := c.bytes(size * len(tmpl))
	for i, a := range tmpl {
		v := m.abi.attrValue(a.Value)
		e := b[i*size:]
		m.abi.putULong(e, off[0], a.Type)
		m.abi.putPtr(e, off[1], c.of(v))
		m.abi.putULong(e, off[2], uint(len(v)))
	}
	return p, uintptr(len(tmpl))
}

// mech lays out a CK_MECHANISM (and its parameter) in pinned memory.
func (m *pureModule) mech(c *cbuf, mech mechanism) uintptr {
	param := mech.Param
	if mech.PSS != nil { // CK_RSA_PKCS_PSS_PARAMS: hashAlg, mgf, sLen
		param = make([]byte, 3*m.abi.ulong)
		m.abi.putULong(param, 0, mech.PSS.Hash)
		m.abi.putULong(param, m.abi.ulong, mech.PSS.MGF)
		m.abi.putULong(param, 2*m.abi.ulong, mech.PSS.SaltLen)
	}
	off, size := m.abi.attribute() // the same shape: type, pointer, length
	b, p := c.bytes(size)
	m.abi.putULong(b, off[0], mech.Type)
	m.abi.putPtr(b, off[1], c.of(param))
	m.abi.putULong(b, off[2], uint(len(param)))
	return p
}

func (m *pureModule) FindObjects(session uint, template []attribute) ([]uint, error) {
	var c cbuf
	defer c.done()
	t, n := m.template(&c, template)
	if err := m.call("C_FindObjectsInit", fnFindObjectsInit, uintptr(session), t, n); err != nil {
		return nil, err
	}
	const batch = 64
	hs, ph := c.bytes(batch * m.abi.ulong)
	cnt, pc := m.ulong(&c)
	var out []uint
	for {
		if err := m.call("C_FindObjects", fnFindObjects, uintptr(session), ph, batch, pc); err != nil {
			_ = m.call("C_FindObjectsFinal", fnFindObjectsFinal, uintptr(session)) // the search failed already
			return nil, err
		}
		k := m.abi.getULong(cnt, 0)
		for j := range min(int(k), batch) {
			out = append(out, m.abi.getULong(hs, j*m.abi.ulong))
		}
		if k == 0 {
			break
		}
	}
	return out, m.call("C_FindObjectsFinal", fnFindObjectsFinal, uintptr(session))
}

func (m *pureModule) GetAttributeValue(session, object, typ uint) ([]byte, error) {
	var c cbuf
	defer c.done()
	off, size := m.abi.attribute()
	a, pa := c.bytes(size)
	m.abi.putULong(a, off[0], typ)
	if err := m.call("C_GetAttributeValue", fnGetAttributeValue, uintptr(session), uintptr(object), pa, 1); err != nil {
		return nil, err
	}
	n := m.abi.getULong(a, off[2])
	if n == ck.CK_UNAVAILABLE_INFORMATION&m.abi.ulongMask() {
		return nil, &Error{Func: "C_GetAttributeValue", Code: ck.CKR_ATTRIBUTE_TYPE_INVALID}
	}
	v, pv := c.bytes(int(n))
	if n == 0 {
		return []byte{}, nil
	}
	m.abi.putPtr(a, off[1], pv)
	if err := m.call("C_GetAttributeValue", fnGetAttributeValue, uintptr(session), uintptr(object), pa, 1); err != nil {
		return nil, err
	}
	return v[:min(m.abi.getULong(a, off[2]), n)], nil
}

func (m *pureModule) GenerateKeyPair(session uint, mech mechanism, public, private []attribute) (uint, uint, error) {
	var c cbuf
	defer c.done()
	pm := m.mech(&c, mech)
	pt, pn := m.template(&c, public)
	qt, qn := m.template(&c, private)
	pub, ppub := m.ulong(&c)
	priv, ppriv := m.ulong(&c)
	if err := m.call("C_GenerateKeyPair", fnGenerateKeyPair, uintptr(session), pm, pt, pn, qt, qn, ppub, ppriv); err != nil {
		return 0, 0, err
	}
	return m.abi.getULong(pub, 0), m.abi.getULong(priv, 0), nil
}

func (m *pureModule) SignInit(session uint, mech mechanism, key uint) error {
	var c cbuf
	defer c.done()
	return m.call("C_SignInit", fnSignInit, uintptr(session), m.mech(&c, mech), uintptr(key))
}

// Sign asks for the signature's length first (a NULL buffer does not end
// the operation), then for the signature.
func (m *pureModule) Sign(session uint, data []byte) ([]byte, error) {
	var c cbuf
	defer c.done()
	pd := c.of(data)
	n, pn := m.ulong(&c)
	if err := m.call("C_Sign", fnSign, uintptr(session), pd, uintptr(len(data)), 0, pn); err != nil {
		return nil, err
	}
	size := m.abi.getULong(n, 0)
	sig, ps := c.bytes(int(size))
	if err := m.call("C_Sign", fnSign, uintptr(session), pd, uintptr(len(data)), ps, pn); err != nil {
		return nil, err
	}
	return sig[:min(m.abi.getULong(n, 0), size)], nil
}
