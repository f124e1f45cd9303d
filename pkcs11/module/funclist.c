// The function list of the module: the Go functions exported in this
// package, and not_supported for the PKCS#11 v2.40 functions it does not
// implement.

#include "p11.h"
#include "_cgo_export.h"

#define CKR_OK 0UL
#define CKR_ARGUMENTS_BAD 7UL
#define CKR_FUNCTION_NOT_SUPPORTED 0x54UL

// not_supported stands for every unimplemented function. It is called
// through pointers of other prototypes: it takes no arguments and returns a
// CK_RV, which the C calling conventions of the platforms Go's c-shared mode
// supports (caller-cleaned stacks, arguments in registers) make harmless.
static CK_RV not_supported(void) { return CKR_FUNCTION_NOT_SUPPORTED; }

/* Exported from the DLL on Windows: there only what is marked so is (the
 * Go functions are, by cgo), and applications look this one up first. */
#ifdef _WIN32
#define KEP_EXPORT __declspec(dllexport)
#else
#define KEP_EXPORT
#endif

KEP_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST **ppFunctionList);

#define NS ((void *)not_supported)

static CK_FUNCTION_LIST function_list = {
	{2, 40},
	{
		(void *)C_Initialize,
		(void *)C_Finalize,
		(void *)C_GetInfo,
		(void *)C_GetFunctionList,
		(void *)C_GetSlotList,
		(void *)C_GetSlotInfo,
		(void *)C_GetTokenInfo,
		(void *)C_GetMechanismList,
		(void *)C_GetMechanismInfo,
		NS, // C_InitToken
		NS, // C_InitPIN
		NS, // C_SetPIN
		(void *)C_OpenSession,
		(void *)C_CloseSession,
		(void *)C_CloseAllSessions,
		(void *)C_GetSessionInfo,
		NS, // C_GetOperationState
		NS, // C_SetOperationState
		(void *)C_Login,
		(void *)C_Logout,
		NS, // C_CreateObject
		NS, // C_CopyObject
		NS, // C_DestroyObject
		NS, // C_GetObjectSize
		(void *)C_GetAttributeValue,
		NS, // C_SetAttributeValue
		(void *)C_FindObjectsInit,
		(void *)C_FindObjects,
		(void *)C_FindObjectsFinal,
		NS, // C_EncryptInit
		NS, // C_Encrypt
		NS, // C_EncryptUpdate
		NS, // C_EncryptFinal
		NS, // C_DecryptInit
		NS, // C_Decrypt
		NS, // C_DecryptUpdate
		NS, // C_DecryptFinal
		NS, // C_DigestInit
		NS, // C_Digest
		NS, // C_DigestUpdate
		NS, // C_DigestKey
		NS, // C_DigestFinal
		(void *)C_SignInit,
		(void *)C_Sign,
		(void *)C_SignUpdate,
		(void *)C_SignFinal,
		NS, // C_SignRecoverInit
		NS, // C_SignRecover
		NS, // C_VerifyInit
		NS, // C_Verify
		NS, // C_VerifyUpdate
		NS, // C_VerifyFinal
		NS, // C_VerifyRecoverInit
		NS, // C_VerifyRecover
		NS, // C_DigestEncryptUpdate
		NS, // C_DecryptDigestUpdate
		NS, // C_SignEncryptUpdate
		NS, // C_DecryptVerifyUpdate
		NS, // C_GenerateKey
		(void *)C_GenerateKeyPair,
		NS, // C_WrapKey
		NS, // C_UnwrapKey
		NS, // C_DeriveKey
		(void *)C_SeedRandom,
		(void *)C_GenerateRandom,
		NS, // C_GetFunctionStatus
		NS, // C_CancelFunction
		NS, // C_WaitForSlotEvent
	},
};

KEP_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST **ppFunctionList) {
	if (ppFunctionList == 0) {
		return CKR_ARGUMENTS_BAD;
	}
	*ppFunctionList = &function_list;
	return CKR_OK;
}
