package main

/*
#include "p11.h"
*/
import "C"

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"hash"
	"math/big"
	"unsafe"

	ck "github.com/miekg/pkcs11"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/streebog"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/soft"
)

// signOp is a signature under way in a session.
type signOp struct {
	key  *soft.Key
	mech uint
	h    hash.Hash // the Streebog of the hash-on-token mechanisms, else nil
	size int       // the signature's length
}

// mechanisms lists what C_GetMechanismList returns, with its info.
var mechanisms = []struct {
	typ      uint
	min, max uint
	flags    uint
}{
	{pkcs11.CKM_GOSTR3410_KEY_PAIR_GEN, 256, 256, ck.CKF_GENERATE_KEY_PAIR},
	{pkcs11.CKM_GOSTR3410_512_KEY_PAIR_GEN, 512, 512, ck.CKF_GENERATE_KEY_PAIR},
	{pkcs11.CKM_GOSTR3410, 256, 256, ck.CKF_SIGN},
	{pkcs11.CKM_GOSTR3410_512, 512, 512, ck.CKF_SIGN},
	{pkcs11.CKM_GOSTR3410_WITH_GOSTR3411_12_256, 256, 256, ck.CKF_SIGN},
	{pkcs11.CKM_GOSTR3410_WITH_GOSTR3411_12_512, 512, 512, ck.CKF_SIGN},
	{ck.CKM_RSA_PKCS, 2048, 16384, ck.CKF_SIGN},
	{ck.CKM_ECDSA, 256, 521, ck.CKF_SIGN | ck.CKF_EC_F_P | ck.CKF_EC_NAMEDCURVE | ck.CKF_EC_UNCOMPRESS},
}

//export C_GetMechanismList
func C_GetMechanismList(slot C.CK_SLOT_ID, pMechanismList *C.CK_MECHANISM_TYPE, pulCount *C.CK_ULONG) C.CK_RV {
	return call(func() C.CK_RV {
		if slot != slotID {
			return ck.CKR_SLOT_ID_INVALID
		}
		if pulCount == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		if token() == nil {
			return ck.CKR_TOKEN_NOT_PRESENT
		}
		n := C.CK_ULONG(len(mechanisms))
		if pMechanismList == nil {
			*pulCount = n
			return ck.CKR_OK
		}
		if *pulCount < n {
			*pulCount = n
			return ck.CKR_BUFFER_TOO_SMALL
		}
		list := unsafe.Slice(pMechanismList, len(mechanisms))
		for i, m := range mechanisms {
			list[i] = C.CK_MECHANISM_TYPE(m.typ)
		}
		*pulCount = n
		return ck.CKR_OK
	})
}

//export C_GetMechanismInfo
func C_GetMechanismInfo(slot C.CK_SLOT_ID, typ C.CK_MECHANISM_TYPE, pInfo *C.CK_MECHANISM_INFO) C.CK_RV {
	return call(func() C.CK_RV {
		if slot != slotID {
			return ck.CKR_SLOT_ID_INVALID
		}
		if pInfo == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		if token() == nil {
			return ck.CKR_TOKEN_NOT_PRESENT
		}
		for _, m := range mechanisms {
			if C.CK_MECHANISM_TYPE(m.typ) == typ {
				*pInfo = C.CK_MECHANISM_INFO{ulMinKeySize: C.CK_ULONG(m.min), ulMaxKeySize: C.CK_ULONG(m.max), flags: C.CK_FLAGS(m.flags)}
				return ck.CKR_OK
			}
		}
		return ck.CKR_MECHANISM_INVALID
	})
}

//export C_SignInit
func C_SignInit(h C.CK_SESSION_HANDLE, pMechanism *C.CK_MECHANISM, hKey C.CK_OBJECT_HANDLE) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if pMechanism == nil {
			return ck.CKR_ARGUMENTS_BAD
		}
		if s.sign != nil {
			return ck.CKR_OPERATION_ACTIVE
		}
		if !tok.LoggedIn() {
			return ck.CKR_USER_NOT_LOGGED_IN
		}
		o, rv := mod.objects.get(tok, hKey)
		if rv != ck.CKR_OK {
			return ck.CKR_KEY_HANDLE_INVALID
		}
		if o.class != ck.CKO_PRIVATE_KEY {
			return ck.CKR_KEY_FUNCTION_NOT_PERMITTED
		}
		op := &signOp{mech: uint(C.kep_mech_type(pMechanism))}
		param := bytesOf(C.kep_mech_param(pMechanism), C.kep_mech_param_len(pMechanism))
		kt := keyType(o.key)
		var want uint // the key type the mechanism needs
		switch op.mech {
		case pkcs11.CKM_GOSTR3410:
			want, op.size = pkcs11.CKK_GOSTR3410, 64
		case pkcs11.CKM_GOSTR3410_512:
			want, op.size = pkcs11.CKK_GOSTR3410_512, 128
		case pkcs11.CKM_GOSTR3410_WITH_GOSTR3411_12_256:
			want, op.size, op.h = pkcs11.CKK_GOSTR3410, 64, streebog.New256()
			if len(param) > 0 && !bytes.Equal(param, der(oidStreebog256)) {
				return ck.CKR_MECHANISM_PARAM_INVALID
			}
			param = nil
		case pkcs11.CKM_GOSTR3410_WITH_GOSTR3411_12_512:
			want, op.size, op.h = pkcs11.CKK_GOSTR3410_512, 128, streebog.New512()
			if len(param) > 0 && !bytes.Equal(param, der(oidStreebog512)) {
				return ck.CKR_MECHANISM_PARAM_INVALID
			}
			param = nil
		case ck.CKM_RSA_PKCS:
			want = ck.CKK_RSA
			if pub, ok := o.key.Public.(*rsa.PublicKey); ok {
				op.size = pub.Size()
			}
		case ck.CKM_ECDSA:
			want = ck.CKK_EC
			if pub, ok := o.key.Public.(*ecdsa.PublicKey); ok {
				op.size = 2 * ((pub.Curve.Params().BitSize + 7) / 8)
			}
		default:
			return ck.CKR_MECHANISM_INVALID
		}
		if len(param) > 0 {
			return ck.CKR_MECHANISM_PARAM_INVALID
		}
		if kt != want {
			return ck.CKR_KEY_TYPE_INCONSISTENT
		}
		key, err := tok.Signer(o.key.ID)
		if err != nil {
			return rvFor(err)
		}
		op.key = key
		s.sign = op
		return ck.CKR_OK
	})
}

//export C_Sign
func C_Sign(h C.CK_SESSION_HANDLE, pData *C.CK_BYTE, ulDataLen C.CK_ULONG, pSignature *C.CK_BYTE, pulSignatureLen *C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if s.sign == nil {
			return ck.CKR_OPERATION_NOT_INITIALIZED
		}
		if pData == nil && ulDataLen > 0 {
			return ck.CKR_ARGUMENTS_BAD
		}
		return finish(s, bytesOf(unsafe.Pointer(pData), ulDataLen), pSignature, pulSignatureLen)
	})
}

//export C_SignUpdate
func C_SignUpdate(h C.CK_SESSION_HANDLE, pPart *C.CK_BYTE, ulPartLen C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if s.sign == nil {
			return ck.CKR_OPERATION_NOT_INITIALIZED
		}
		if s.sign.h == nil { // the raw mechanisms are single-part
			s.sign = nil
			return ck.CKR_FUNCTION_NOT_SUPPORTED
		}
		if pPart == nil && ulPartLen > 0 {
			return ck.CKR_ARGUMENTS_BAD
		}
		s.sign.h.Write(bytesOf(unsafe.Pointer(pPart), ulPartLen))
		return ck.CKR_OK
	})
}

//export C_SignFinal
func C_SignFinal(h C.CK_SESSION_HANDLE, pSignature *C.CK_BYTE, pulSignatureLen *C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if s.sign == nil {
			return ck.CKR_OPERATION_NOT_INITIALIZED
		}
		if s.sign.h == nil {
			s.sign = nil
			return ck.CKR_FUNCTION_NOT_SUPPORTED
		}
		return finish(s, nil, pSignature, pulSignatureLen)
	})
}

// finish completes the session's signature over data (appended to what
// C_SignUpdate hashed) with the length protocol of PKCS#11: a NULL buffer
// asks the length, a short one is CKR_BUFFER_TOO_SMALL; both leave the
// operation active.
func finish(s *session, data []byte, pSignature *C.CK_BYTE, pulSignatureLen *C.CK_ULONG) C.CK_RV {
	op := s.sign
	if pulSignatureLen == nil {
		return ck.CKR_ARGUMENTS_BAD
	}
	if pSignature == nil {
		*pulSignatureLen = C.CK_ULONG(op.size)
		return ck.CKR_OK
	}
	if *pulSignatureLen < C.CK_ULONG(op.size) {
		*pulSignatureLen = C.CK_ULONG(op.size)
		return ck.CKR_BUFFER_TOO_SMALL
	}
	s.sign = nil
	digest := data
	if op.h != nil {
		op.h.Write(data)
		digest = op.h.Sum(nil)
	}
	switch op.mech {
	case pkcs11.CKM_GOSTR3410, pkcs11.CKM_GOSTR3410_512:
		if len(digest) != op.size/2 {
			return ck.CKR_DATA_LEN_RANGE
		}
	case ck.CKM_RSA_PKCS:
		if len(digest) > op.size-11 {
			return ck.CKR_DATA_LEN_RANGE
		}
	}
	sig, err := op.key.Sign(rand.Reader, digest, crypto.Hash(0))
	if err != nil {
		return rvFor(err)
	}
	if op.mech == ck.CKM_ECDSA {
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &rs); err != nil {
			return ck.CKR_FUNCTION_FAILED
		}
		sig = make([]byte, op.size)
		rs.R.FillBytes(sig[:op.size/2])
		rs.S.FillBytes(sig[op.size/2:])
	}
	copy(unsafe.Slice((*byte)(pSignature), len(sig)), sig)
	*pulSignatureLen = C.CK_ULONG(len(sig))
	return ck.CKR_OK
}

//export C_GenerateKeyPair
func C_GenerateKeyPair(h C.CK_SESSION_HANDLE, pMechanism *C.CK_MECHANISM,
	pPublicKeyTemplate *C.CK_ATTRIBUTE, ulPublicKeyAttributeCount C.CK_ULONG,
	pPrivateKeyTemplate *C.CK_ATTRIBUTE, ulPrivateKeyAttributeCount C.CK_ULONG,
	phPublicKey, phPrivateKey *C.CK_OBJECT_HANDLE) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if pMechanism == nil || phPublicKey == nil || phPrivateKey == nil ||
			pPublicKeyTemplate == nil && ulPublicKeyAttributeCount > 0 ||
			pPrivateKeyTemplate == nil && ulPrivateKeyAttributeCount > 0 {
			return ck.CKR_ARGUMENTS_BAD
		}
		var bits int
		opts := pkcs11.KeyOptions{Type: pkcs11.KeyGOST}
		switch uint(C.kep_mech_type(pMechanism)) {
		case pkcs11.CKM_GOSTR3410_KEY_PAIR_GEN:
			bits, opts.ParamSet = 256, gost3410.CryptoProA
		case pkcs11.CKM_GOSTR3410_512_KEY_PAIR_GEN:
			bits, opts.ParamSet = 512, gost3410.TC26512A
		default:
			return ck.CKR_MECHANISM_INVALID
		}
		if !s.rw {
			return ck.CKR_SESSION_READ_ONLY
		}
		if !tok.LoggedIn() {
			return ck.CKR_USER_NOT_LOGGED_IN
		}
		// Both templates name the same key: read CKA_ID, CKA_LABEL and the
		// parameter set from either, the private key's winning.
		for _, t := range []struct {
			p *C.CK_ATTRIBUTE
			n C.CK_ULONG
		}{{pPublicKeyTemplate, ulPublicKeyAttributeCount}, {pPrivateKeyTemplate, ulPrivateKeyAttributeCount}} {
			for i := range t.n {
				a := C.kep_attr(t.p, i)
				v := bytesOf(C.kep_attr_value(a), C.kep_attr_len(a))
				switch uint(C.kep_attr_type(a)) {
				case ck.CKA_ID:
					opts.ID = bytes.Clone(v)
				case ck.CKA_LABEL:
					opts.Label = string(v)
				case pkcs11.CKA_GOSTR3410_PARAMS:
					var oid asn1.ObjectIdentifier
					if rest, err := asn1.Unmarshal(v, &oid); err != nil || len(rest) > 0 {
						return ck.CKR_ATTRIBUTE_VALUE_INVALID
					}
					ps, err := gost3410.ParamSetByOID(oid)
					if err != nil || ps.Legacy {
						return ck.CKR_ATTRIBUTE_VALUE_INVALID
					}
					opts.ParamSet = ps
				}
			}
		}
		if opts.ParamSet.BitSize() != bits {
			return ck.CKR_TEMPLATE_INCONSISTENT
		}
		obj, err := tok.GenerateKey(opts)
		if err != nil {
			return rvFor(err)
		}
		if _, err := mod.objects.refresh(tok); err != nil {
			return rvFor(err)
		}
		*phPublicKey = mod.objects.handles[handleKey(ck.CKO_PUBLIC_KEY, obj.ID)]
		*phPrivateKey = mod.objects.handles[handleKey(ck.CKO_PRIVATE_KEY, obj.ID)]
		return ck.CKR_OK
	})
}

//export C_SeedRandom
func C_SeedRandom(h C.CK_SESSION_HANDLE, pSeed *C.CK_BYTE, ulSeedLen C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		return ck.CKR_RANDOM_SEED_NOT_SUPPORTED
	})
}

//export C_GenerateRandom
func C_GenerateRandom(h C.CK_SESSION_HANDLE, pRandomData *C.CK_BYTE, ulRandomLen C.CK_ULONG) C.CK_RV {
	return withSession(h, func(s *session, tok *soft.Token) C.CK_RV {
		if pRandomData == nil && ulRandomLen > 0 {
			return ck.CKR_ARGUMENTS_BAD
		}
		rand.Read(bytesOf(unsafe.Pointer(pRandomData), ulRandomLen))
		return ck.CKR_OK
	})
}
