package main

/*
#include "p11.h"
*/
import "C"

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/binary"
	"math/big"
	"slices"
	"unsafe"

	ck "github.com/miekg/pkcs11"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/soft"
)

// session is an open session.
type session struct {
	rw    bool
	found []C.CK_OBJECT_HANDLE // results of C_FindObjectsInit not yet returned
	find  bool                 // a search is active
	sign  *signOp              // a signature is active
}

// object is one PKCS#11 object: a class of one key of the token.
type object struct {
	class uint // CKO_PRIVATE_KEY, CKO_PUBLIC_KEY or CKO_CERTIFICATE
	key   *soft.Object
}

// objectTable gives the token's objects handles that stay the same for as
// long as the token is open.
type objectTable struct {
	byHandle map[C.CK_OBJECT_HANDLE]*object
	handles  map[string]C.CK_OBJECT_HANDLE // by class and CKA_ID
	next     C.CK_OBJECT_HANDLE
}

// refresh reads the token's keys and returns the handles of the objects the
// session may see (private keys only after login), in order.
func (t *objectTable) refresh(tok *soft.Token) ([]C.CK_OBJECT_HANDLE, error) {
	objs, err := tok.Objects()
	if err != nil {
		return nil, err
	}
	if t.byHandle == nil {
		t.byHandle = map[C.CK_OBJECT_HANDLE]*object{}
		t.handles = map[string]C.CK_OBJECT_HANDLE{}
	}
	loggedIn := tok.LoggedIn()
	var visible []C.CK_OBJECT_HANDLE
	for _, o := range objs {
		for _, class := range []uint{ck.CKO_CERTIFICATE, ck.CKO_PUBLIC_KEY, ck.CKO_PRIVATE_KEY} {
			if class == ck.CKO_CERTIFICATE && o.Certificate == nil {
				continue
			}
			k := handleKey(class, o.ID)
			h, ok := t.handles[k]
			if !ok {
				t.next++
				h = t.next
				t.handles[k] = h
			}
			t.byHandle[h] = &object{class: class, key: o}
			if class != ck.CKO_PRIVATE_KEY || loggedIn {
				visible = append(visible, h)
			}
		}
	}
	slices.Sort(visible)
	return visible, nil
}

func handleKey(class uint, id []byte) string {
	return string(rune(class)) + string(id)
}

// get returns the object with handle h if the session may see it.
func (t *objectTable) get(tok *soft.Token, h C.CK_OBJECT_HANDLE) (*object, C.CK_RV) {
	o := t.byHandle[h]
	if o == nil {
		if _, err := t.refresh(tok); err != nil {
			return nil, rvFor(err)
		}
		o = t.byHandle[h]
	}
	if o == nil || o.class == ck.CKO_PRIVATE_KEY && !tok.LoggedIn() {
		return nil, ck.CKR_OBJECT_HANDLE_INVALID
	}
	return o, ck.CKR_OK
}

// withSession runs fn with the session h and the token, checking that the
// token is still there.
func withSession(h C.CK_SESSION_HANDLE, fn func(s *session, tok *soft.Token) C.CK_RV) C.CK_RV {
	return call(func() C.CK_RV {
		s := mod.sessions[h]
		if s == nil {
			return ck.CKR_SESSION_HANDLE_INVALID
		}
		if _, err := mod.tok.Info(); err != nil {
			return rvFor(err)
		}
		return fn(s, mod.tok)
	})
}

//export C_OpenSession
func C_OpenSession(slot C.CK_SLOT_ID, flags C.CK_FLAGS, pApplication unsafe.Pointer, notify C.CK_NOTIFY, phSession *C.CK_SESSION_HANDLE) C.CK_RV {
	return call(func() C.CK_RV {
		if slot != slotID {
			return ck.CKR_SLOT_ID_INVALID
		}
		if phSession == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		if flags&ck.CKF_SERIAL_SESSION == 0 {
			return ck.CKR_SESSION_PARALLEL_NOT_SUPPORTED
		}
		if token() == nil {
			return ck.CKR_TOKEN_NOT_PRESENT
		}
		mod.nextSession++
		mod.sessions[mod.nextSession] = &session{rw: flags&ck.CKF_RW_SESSION != 0}
		*phSession = mod.nextSession
		return ck.CKR_OK
	})
}

//export C_CloseSession
func C_CloseSession(h C.CK_SESSION_HANDLE) C.CK_RV {
	return call(func() C.CK_RV {
		if mod.sessions[h] == nil {
			return ck.CKR_SESSION_HANDLE_INVALID
		}
		delete(mod.sessions, h)
		if len(mod.sessions) == 0 && mod.tok != nil {
			mod.tok.Logout() // the last session closed logs the user out
		}
		return ck.CKR_OK
	})
}

//export C_CloseAllSessions
func C_CloseAllSessions(slot C.CK_SLOT_ID) C.CK_RV {
	return call(func() C.CK_RV {
		if slot != slotID {
			return ck.CKR_SLOT_ID_INVALID
		}
		clear(mod.sessions)
		if mod.tok != nil {
			mod.tok.Logout()
		}
		return ck.CKR_OK
	})
}

//export C_GetSessionInfo
func C_GetSessionInfo(h C.CK_SESSION_HANDLE, pInfo *C.CK_SESSION_INFO) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if pInfo == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		*pInfo = C.CK_SESSION_INFO{slotID: slotID, flags: ck.CKF_SERIAL_SESSION}
		switch user := tok.LoggedIn(); {
		case s.rw && user:
			pInfo.state = ck.CKS_RW_USER_FUNCTIONS
		case s.rw:
			pInfo.state = ck.CKS_RW_PUBLIC_SESSION
		case user:
			pInfo.state = ck.CKS_RO_USER_FUNCTIONS
		default:
			pInfo.state = ck.CKS_RO_PUBLIC_SESSION
		}
		if s.rw {
			pInfo.flags |= ck.CKF_RW_SESSION
		}
		return ck.CKR_OK
	})
}

//export C_Login
func C_Login(h C.CK_SESSION_HANDLE, userType C.CK_USER_TYPE, pPin *C.CK_UTF8CHAR, ulPinLen C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if userType != ck.CKU_USER {
			return ck.CKR_USER_TYPE_INVALID // no SO PIN, no per-use PIN
		}
		if pPin == nil {
			return ck.CKR_ARGUMENTS_BAD // no protected authentication path
		}
		if tok.LoggedIn() {
			return ck.CKR_USER_ALREADY_LOGGED_IN
		}
		pin := bytes.Clone(bytesOf(unsafe.Pointer(pPin), ulPinLen))
		defer clear(pin)
		return rvFor(tok.Login(pin))
	})
}

//export C_Logout
func C_Logout(h C.CK_SESSION_HANDLE) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if !tok.LoggedIn() {
			return ck.CKR_USER_NOT_LOGGED_IN
		}
		tok.Logout()
		for _, s := range mod.sessions {
			s.sign = nil
		}
		return ck.CKR_OK
	})
}

//export C_FindObjectsInit
func C_FindObjectsInit(h C.CK_SESSION_HANDLE, pTemplate *C.CK_ATTRIBUTE, ulCount C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if s.find {
			return ck.CKR_OPERATION_ACTIVE
		}
		if pTemplate == nil && ulCount > 0 {
			return ck.CKR_ARGUMENTS_BAD
		}
		visible, err := mod.objects.refresh(tok)
		if err != nil {
			return rvFor(err)
		}
		s.found = s.found[:0]
	next:
		for _, oh := range visible {
			o := mod.objects.byHandle[oh]
			for i := range C.CK_ULONG(ulCount) {
				a := C.kep_attr(pTemplate, i)
				v, rv := o.attribute(uint(C.kep_attr_type(a)))
				if rv != ck.CKR_OK || !bytes.Equal(v, bytesOf(C.kep_attr_value(a), C.kep_attr_len(a))) {
					continue next
				}
			}
			s.found = append(s.found, oh)
		}
		s.find = true
		return ck.CKR_OK
	})
}

//export C_FindObjects
func C_FindObjects(h C.CK_SESSION_HANDLE, phObject *C.CK_OBJECT_HANDLE, ulMaxObjectCount C.CK_ULONG, pulObjectCount *C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if !s.find {
			return ck.CKR_OPERATION_NOT_INITIALIZED
		}
		if pulObjectCount == nil || phObject == nil && ulMaxObjectCount > 0 {
			return ck.CKR_ARGUMENTS_BAD
		}
		n := min(int(ulMaxObjectCount), len(s.found))
		if n > 0 {
			copy(unsafe.Slice(phObject, n), s.found[:n])
		}
		s.found = s.found[n:]
		*pulObjectCount = C.CK_ULONG(n)
		return ck.CKR_OK
	})
}

//export C_FindObjectsFinal
func C_FindObjectsFinal(h C.CK_SESSION_HANDLE) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if !s.find {
			return ck.CKR_OPERATION_NOT_INITIALIZED
		}
		s.find, s.found = false, nil
		return ck.CKR_OK
	})
}

//export C_GetAttributeValue
func C_GetAttributeValue(h C.CK_SESSION_HANDLE, hObject C.CK_OBJECT_HANDLE, pTemplate *C.CK_ATTRIBUTE, ulCount C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if pTemplate == nil && ulCount > 0 {
			return ck.CKR_ARGUMENTS_BAD
		}
		o, rv := mod.objects.get(tok, hObject)
		if rv != ck.CKR_OK {
			return rv
		}
		result := C.CK_RV(ck.CKR_OK)
		for i := range ulCount {
			a := C.kep_attr(pTemplate, i)
			v, rv := o.attribute(uint(C.kep_attr_type(a)))
			switch {
			case rv != ck.CKR_OK:
				C.kep_attr_set_len(a, unavailable)
				result = rv
			case C.kep_attr_value(a) == nil:
				C.kep_attr_set_len(a, C.CK_ULONG(len(v)))
			case C.kep_attr_len(a) < C.CK_ULONG(len(v)):
				C.kep_attr_set_len(a, unavailable)
				result = ck.CKR_BUFFER_TOO_SMALL
			default:
				copy(bytesOf(C.kep_attr_value(a), C.kep_attr_len(a)), v)
				C.kep_attr_set_len(a, C.CK_ULONG(len(v)))
			}
		}
		return result
	})
}

var (
	oidStreebog256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}
	oidStreebog512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3}
	oidCurves      = map[elliptic.Curve]asn1.ObjectIdentifier{
		elliptic.P256(): {1, 2, 840, 10045, 3, 1, 7},
		elliptic.P384(): {1, 3, 132, 0, 34},
		elliptic.P521(): {1, 3, 132, 0, 35},
	}
)

func ulong(v uint) []byte {
	if unsafe.Sizeof(C.CK_ULONG(0)) == 4 { // Windows
		return binary.NativeEndian.AppendUint32(nil, uint32(v))
	}
	return binary.NativeEndian.AppendUint64(nil, uint64(v))
}

func boolean(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

func der(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err) // the values here always marshal
	}
	return b
}

// attribute returns the value of attribute typ, or CKR_ATTRIBUTE_TYPE_INVALID
// or CKR_ATTRIBUTE_SENSITIVE.
func (o *object) attribute(typ uint) ([]byte, C.CK_RV) {
	k := o.key
	switch typ {
	case ck.CKA_CLASS:
		return ulong(o.class), ck.CKR_OK
	case ck.CKA_TOKEN:
		return boolean(true), ck.CKR_OK
	case ck.CKA_PRIVATE:
		return boolean(o.class == ck.CKO_PRIVATE_KEY), ck.CKR_OK
	case ck.CKA_MODIFIABLE, ck.CKA_COPYABLE, ck.CKA_DESTROYABLE:
		return boolean(false), ck.CKR_OK
	case ck.CKA_LABEL:
		return []byte(k.Label), ck.CKR_OK
	case ck.CKA_ID:
		return k.ID, ck.CKR_OK
	}
	if o.class == ck.CKO_CERTIFICATE {
		c := k.Certificate
		switch typ {
		case ck.CKA_CERTIFICATE_TYPE:
			return ulong(ck.CKC_X_509), ck.CKR_OK
		case ck.CKA_VALUE:
			return c.Raw, ck.CKR_OK
		case ck.CKA_SUBJECT:
			return c.RawSubject, ck.CKR_OK
		case ck.CKA_ISSUER:
			return c.RawIssuer, ck.CKR_OK
		case ck.CKA_SERIAL_NUMBER:
			return der(c.SerialNumber), ck.CKR_OK
		case ck.CKA_TRUSTED:
			return boolean(false), ck.CKR_OK
		}
		return nil, ck.CKR_ATTRIBUTE_TYPE_INVALID
	}
	private := o.class == ck.CKO_PRIVATE_KEY
	switch typ {
	case ck.CKA_KEY_TYPE:
		return ulong(keyType(k)), ck.CKR_OK
	case ck.CKA_SUBJECT:
		if k.Certificate != nil {
			return k.Certificate.RawSubject, ck.CKR_OK
		}
		return nil, ck.CKR_OK
	case ck.CKA_SIGN, ck.CKA_SENSITIVE, ck.CKA_ALWAYS_SENSITIVE:
		return boolean(private), ck.CKR_OK
	case ck.CKA_VERIFY:
		return boolean(!private), ck.CKR_OK
	case ck.CKA_EXTRACTABLE:
		return boolean(!private), ck.CKR_OK
	case ck.CKA_ENCRYPT, ck.CKA_DECRYPT, ck.CKA_WRAP, ck.CKA_UNWRAP, ck.CKA_SIGN_RECOVER,
		ck.CKA_VERIFY_RECOVER, ck.CKA_DERIVE, ck.CKA_LOCAL, ck.CKA_NEVER_EXTRACTABLE, ck.CKA_ALWAYS_AUTHENTICATE:
		return boolean(false), ck.CKR_OK
	}
	switch pub := k.Public.(type) {
	case *gost3410.PublicKey:
		switch typ {
		case ck.CKA_GOSTR3410_PARAMS:
			return der(pub.Params().OID), ck.CKR_OK
		case ck.CKA_GOSTR3411_PARAMS:
			if pub.Params().BitSize() == 512 {
				return der(oidStreebog512), ck.CKR_OK
			}
			return der(oidStreebog256), ck.CKR_OK
		case ck.CKA_VALUE:
			if private {
				return nil, ck.CKR_ATTRIBUTE_SENSITIVE
			}
			return gostkey.MarshalPublicKeyValue(pub), ck.CKR_OK
		}
	case *rsa.PublicKey:
		switch typ {
		case ck.CKA_MODULUS:
			return pub.N.Bytes(), ck.CKR_OK
		case ck.CKA_MODULUS_BITS:
			return ulong(uint(pub.N.BitLen())), ck.CKR_OK
		case ck.CKA_PUBLIC_EXPONENT:
			return big.NewInt(int64(pub.E)).Bytes(), ck.CKR_OK
		case ck.CKA_PRIVATE_EXPONENT, ck.CKA_PRIME_1, ck.CKA_PRIME_2, ck.CKA_EXPONENT_1, ck.CKA_EXPONENT_2, ck.CKA_COEFFICIENT:
			if private {
				return nil, ck.CKR_ATTRIBUTE_SENSITIVE
			}
		}
	case *ecdsa.PublicKey:
		switch typ {
		case ck.CKA_EC_PARAMS:
			return der(oidCurves[pub.Curve]), ck.CKR_OK
		case ck.CKA_EC_POINT:
			if !private {
				point, _ := pub.Bytes()
				return der(point), ck.CKR_OK
			}
		case ck.CKA_VALUE:
			if private {
				return nil, ck.CKR_ATTRIBUTE_SENSITIVE
			}
		}
	}
	return nil, ck.CKR_ATTRIBUTE_TYPE_INVALID
}

// keyType is the CKK_ value of a key.
func keyType(k *soft.Object) uint {
	switch pub := k.Public.(type) {
	case *gost3410.PublicKey:
		if pub.Params().BitSize() == 512 {
			return pkcs11.CKK_GOSTR3410_512
		}
		return pkcs11.CKK_GOSTR3410
	case *rsa.PublicKey:
		return ck.CKK_RSA
	}
	return ck.CKK_EC
}
