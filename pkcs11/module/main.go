// Command module is the software token of package soft as a PKCS#11 v2.40
// library, built with
//
//	go build -buildmode=c-shared -o bin/kep-pkcs11.so ./pkcs11/module
//
// so that PKCS#11 applications — kep's pkcs11 package, OpenSC's pkcs11-tool,
// browsers through p11-kit — use GOST R 34.10-2012 keys without hardware.
//
// The module has one slot, 0, holding the token in the directory
// $KEP_SOFT_DIR, else kep/soft in the user's configuration directory
// (os.UserConfigDir). Make the token with package soft (soft.Init and its
// imports); the module does not initialise tokens or change PINs. The token
// is present while the directory holds it: a directory removed or replaced
// under an open session makes its calls fail with CKR_DEVICE_REMOVED, and
// the sessions are then gone (CKR_SESSION_HANDLE_INVALID).
//
// Implemented: C_GetFunctionList, C_Initialize, C_Finalize, C_GetInfo,
// C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo (with the PIN counter's
// CKF_USER_PIN_COUNT_LOW, _FINAL_TRY and _LOCKED), C_GetMechanismList,
// C_GetMechanismInfo, C_OpenSession, C_CloseSession, C_CloseAllSessions,
// C_GetSessionInfo, C_Login and C_Logout (the user only: there is no SO PIN),
// C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal, C_GetAttributeValue,
// C_SignInit, C_Sign, C_SignUpdate and C_SignFinal (the last two for the
// hash-on-token GOST mechanisms), C_GenerateKeyPair (GOST), C_SeedRandom
// (CKR_RANDOM_SEED_NOT_SUPPORTED: the operating system's generator is used)
// and C_GenerateRandom. Every other function of the list returns
// CKR_FUNCTION_NOT_SUPPORTED.
//
// Each key of the token is a private key object (CKA_PRIVATE, visible only
// after C_Login, CKA_SENSITIVE, not extractable), a public key object and,
// when the key has one, an X.509 certificate object, all with the key's
// CKA_ID and CKA_LABEL. Chain certificates stored with a key are not shown.
//
// Mechanisms: CKM_GOSTR3410 and CKM_GOSTR3410_512 (input: the 32- or 64-byte
// Streebog digest as the hash emits it; output s || r big-endian),
// CKM_GOSTR3410_WITH_GOSTR3411_12_256 and _512 (the message, hashed on the
// token; no parameter or the Streebog OID), CKM_GOSTR3410_KEY_PAIR_GEN and
// CKM_GOSTR3410_512_KEY_PAIR_GEN, CKM_RSA_PKCS (input: a DigestInfo) and
// CKM_ECDSA (input: the digest; output r || s).
//
// Security: the library runs in the application's process and keeps the
// token's master key in its memory while a user is logged in; the
// protection of the files is package soft's (scrypt and XChaCha20-Poly1305
// under the PIN, a persistent try counter). Calls are serialised by one lock,
// and a panic inside a call is returned as CKR_GENERAL_ERROR rather than
// taking the application down.
package main

/*
#include <stdlib.h>
#include "p11.h"
*/
import "C"

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	ck "github.com/miekg/pkcs11"

	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/soft"
)

func main() {}

// slotID is the module's only slot.
const slotID = 0

// envName names the token directory's environment variable.
var envName = C.CString("KEP_SOFT_DIR")

// mod is the state of the library. PKCS#11 libraries are process-wide by
// definition: one C_Initialize per process.
var mod struct {
	mu          sync.Mutex
	initialized bool
	dir         string
	tok         *soft.Token // nil while no token is open
	sessions    map[C.CK_SESSION_HANDLE]*session
	nextSession C.CK_SESSION_HANDLE
	objects     objectTable
}

// call runs fn under the library's lock, once C_Initialize has been called,
// and turns a panic into CKR_GENERAL_ERROR.
func call(fn func() C.CK_RV) (rv C.CK_RV) {
	mod.mu.Lock()
	defer mod.mu.Unlock()
	defer func() {
		if recover() != nil {
			rv = ck.CKR_GENERAL_ERROR
		}
	}()
	if !mod.initialized {
		return ck.CKR_CRYPTOKI_NOT_INITIALIZED
	}
	return fn()
}

//export C_Initialize
func C_Initialize(pInitArgs unsafe.Pointer) (rv C.CK_RV) {
	mod.mu.Lock()
	defer mod.mu.Unlock()
	if mod.initialized {
		return ck.CKR_CRYPTOKI_ALREADY_INITIALIZED
	}
	if pInitArgs != nil {
		args := (*C.CK_C_INITIALIZE_ARGS)(pInitArgs)
		if C.kep_init_reserved(args) != nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		if args.CreateMutex != nil && args.flags&ck.CKF_OS_LOCKING_OK == 0 {
			return ck.CKR_CANT_LOCK // the module locks with Go's mutexes only
		}
	}
	// The C environment, not the copy this library's Go runtime took when it
	// was loaded: the application may have set the variable since.
	dir := ""
	if v := C.getenv(envName); v != nil {
		dir = C.GoString(v)
	}
	if dir == "" {
		cfg, err := os.UserConfigDir()
		if err != nil {
			return ck.CKR_GENERAL_ERROR
		}
		dir = filepath.Join(cfg, "kep", "soft")
	}
	mod.dir = dir
	mod.sessions = map[C.CK_SESSION_HANDLE]*session{}
	mod.objects = objectTable{}
	mod.initialized = true
	return ck.CKR_OK
}

//export C_Finalize
func C_Finalize(pReserved unsafe.Pointer) C.CK_RV {
	if pReserved != nil {
		return ck.CKR_ARGUMENTS_BAD
	}
	return call(func() C.CK_RV {
		dropToken()
		mod.initialized = false
		return ck.CKR_OK
	})
}

//export C_GetInfo
func C_GetInfo(pInfo *C.CK_INFO) C.CK_RV {
	return call(func() C.CK_RV {
		if pInfo == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		*pInfo = C.CK_INFO{}
		pInfo.cryptokiVersion = C.CK_VERSION{major: 2, minor: 40}
		pad(pInfo.manufacturerID[:], "kep")
		pad(pInfo.libraryDescription[:], "kep software token")
		pInfo.libraryVersion = C.CK_VERSION{major: 1, minor: 0}
		return ck.CKR_OK
	})
}

//export C_GetSlotList
func C_GetSlotList(tokenPresent C.CK_BBOOL, pSlotList *C.CK_SLOT_ID, pulCount *C.CK_ULONG) C.CK_RV {
	return call(func() C.CK_RV {
		if pulCount == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		n := 1
		if tokenPresent != 0 && token() == nil {
			n = 0
		}
		if pSlotList == nil {
			*pulCount = C.CK_ULONG(n)
			return ck.CKR_OK
		}
		if *pulCount < C.CK_ULONG(n) {
			*pulCount = C.CK_ULONG(n)
			return ck.CKR_BUFFER_TOO_SMALL
		}
		if n == 1 {
			*pSlotList = slotID
		}
		*pulCount = C.CK_ULONG(n)
		return ck.CKR_OK
	})
}

//export C_GetSlotInfo
func C_GetSlotInfo(slot C.CK_SLOT_ID, pInfo *C.CK_SLOT_INFO) C.CK_RV {
	return call(func() C.CK_RV {
		if slot != slotID {
			return ck.CKR_SLOT_ID_INVALID
		}
		if pInfo == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		*pInfo = C.CK_SLOT_INFO{}
		pad(pInfo.slotDescription[:], "kep software token "+mod.dir)
		pad(pInfo.manufacturerID[:], "kep")
		pInfo.flags = ck.CKF_REMOVABLE_DEVICE
		if token() != nil {
			pInfo.flags |= ck.CKF_TOKEN_PRESENT
		}
		pInfo.hardwareVersion = C.CK_VERSION{major: 1}
		pInfo.firmwareVersion = C.CK_VERSION{major: 1}
		return ck.CKR_OK
	})
}

//export C_GetTokenInfo
func C_GetTokenInfo(slot C.CK_SLOT_ID, pInfo *C.CK_TOKEN_INFO) C.CK_RV {
	return call(func() C.CK_RV {
		if slot != slotID {
			return ck.CKR_SLOT_ID_INVALID
		}
		if pInfo == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		tok := token()
		if tok == nil {
			return ck.CKR_TOKEN_NOT_PRESENT
		}
		info, err := tok.Info()
		if err != nil {
			return rvFor(err)
		}
		*pInfo = C.CK_TOKEN_INFO{}
		pad(pInfo.label[:], info.Label)
		pad(pInfo.manufacturerID[:], "kep")
		pad(pInfo.model[:], "soft token")
		pad(pInfo.serialNumber[:], info.Serial)
		flags := C.CK_FLAGS(ck.CKF_RNG | ck.CKF_LOGIN_REQUIRED | ck.CKF_USER_PIN_INITIALIZED | ck.CKF_TOKEN_INITIALIZED)
		if info.PINCountLow {
			flags |= ck.CKF_USER_PIN_COUNT_LOW
		}
		if info.PINFinalTry {
			flags |= ck.CKF_USER_PIN_FINAL_TRY
		}
		if info.PINLocked {
			flags |= ck.CKF_USER_PIN_LOCKED
		}
		pInfo.flags = flags
		var rw C.CK_ULONG
		for _, s := range mod.sessions {
			if s.rw {
				rw++
			}
		}
		pInfo.ulMaxSessionCount = ck.CK_EFFECTIVELY_INFINITE
		pInfo.ulSessionCount = C.CK_ULONG(len(mod.sessions))
		pInfo.ulMaxRwSessionCount = ck.CK_EFFECTIVELY_INFINITE
		pInfo.ulRwSessionCount = rw
		pInfo.ulMaxPinLen = soft.MaxPINLen
		pInfo.ulMinPinLen = soft.MinPINLen
		pInfo.ulTotalPublicMemory = unavailable
		pInfo.ulFreePublicMemory = unavailable
		pInfo.ulTotalPrivateMemory = unavailable
		pInfo.ulFreePrivateMemory = unavailable
		pInfo.hardwareVersion = C.CK_VERSION{major: 1}
		pInfo.firmwareVersion = C.CK_VERSION{major: 1}
		pad(pInfo.utcTime[:], "")
		return ck.CKR_OK
	})
}

// token returns the open token, opening it when the directory holds one,
// or nil when none is present. A token found removed is dropped with its
// sessions.
func token() *soft.Token {
	if mod.tok != nil {
		if _, err := mod.tok.Info(); isRemoval(err) {
			dropToken()
		}
		return mod.tok
	}
	tok, err := soft.Open(mod.dir)
	if err != nil {
		return nil
	}
	mod.tok = tok
	return tok
}

// dropToken closes the token and forgets its sessions and objects.
func dropToken() {
	if mod.tok != nil {
		mod.tok.Close()
		mod.tok = nil
	}
	clear(mod.sessions)
	mod.objects = objectTable{}
}

func isRemoval(err error) bool {
	return errors.Is(err, pkcs11.ErrTokenRemoved) || errors.Is(err, pkcs11.ErrTokenNotPresent)
}

// rvFor maps an error of package soft to a CK_RV. A removal also drops the
// token.
func rvFor(err error) C.CK_RV {
	switch {
	case err == nil:
		return ck.CKR_OK
	case isRemoval(err):
		dropToken()
		return ck.CKR_DEVICE_REMOVED
	case errors.Is(err, pkcs11.ErrPINIncorrect):
		return ck.CKR_PIN_INCORRECT
	case errors.Is(err, pkcs11.ErrPINLocked):
		return ck.CKR_PIN_LOCKED
	case errors.Is(err, pkcs11.ErrPINLenRange):
		return ck.CKR_PIN_LEN_RANGE
	case errors.Is(err, pkcs11.ErrNotLoggedIn):
		return ck.CKR_USER_NOT_LOGGED_IN
	case errors.Is(err, pkcs11.ErrKeyNotFound):
		return ck.CKR_KEY_HANDLE_INVALID
	case errors.Is(err, soft.ErrExists), errors.Is(err, pkcs11.ErrUnsupportedKey):
		return ck.CKR_TEMPLATE_INCONSISTENT
	case errors.Is(err, soft.ErrCorrupt):
		return ck.CKR_DEVICE_ERROR
	}
	return ck.CKR_FUNCTION_FAILED
}

// pad fills a blank-padded PKCS#11 string field, truncating s on a UTF-8
// character boundary.
func pad(field []C.CK_UTF8CHAR, s string) {
	n := 0
	for i := range s {
		if i > len(field) {
			break
		}
		n = i
	}
	if len(s) <= len(field) {
		n = len(s)
	}
	for i := range field {
		field[i] = ' '
		if i < n {
			field[i] = C.CK_UTF8CHAR(s[i])
		}
	}
}

// unavailable is CK_UNAVAILABLE_INFORMATION in this platform's CK_ULONG.
const unavailable = ^C.CK_ULONG(0)

// bytesOf returns the C buffer p of n bytes as a slice (nil when empty).
func bytesOf(p unsafe.Pointer, n C.CK_ULONG) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(p), int(n))
}
