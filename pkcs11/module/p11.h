/* The subset of the PKCS#11 v2.40 types this module needs, laid out as in
 * the OASIS pkcs11t.h: on Unix with natural alignment (CK_ULONG is unsigned
 * long, 8 bytes on LP64); on Windows packed to 1 byte, as every Windows
 * PKCS#11 application expects (CK_ULONG is 4 bytes there, LLP64). */
#ifndef KEP_P11_H
#define KEP_P11_H

#ifdef _WIN32
#pragma pack(push, cryptoki, 1)
#endif

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef CK_ULONG CK_FLAGS;
typedef CK_ULONG CK_SLOT_ID;
typedef CK_ULONG CK_SESSION_HANDLE;
typedef CK_ULONG CK_OBJECT_HANDLE;
typedef CK_ULONG CK_MECHANISM_TYPE;
typedef CK_ULONG CK_ATTRIBUTE_TYPE;
typedef CK_ULONG CK_USER_TYPE;
typedef CK_ULONG CK_NOTIFICATION;
typedef unsigned char CK_BYTE;
typedef unsigned char CK_BBOOL;
typedef unsigned char CK_UTF8CHAR;

typedef struct CK_VERSION {
	CK_BYTE major;
	CK_BYTE minor;
} CK_VERSION;

typedef struct CK_INFO {
	CK_VERSION cryptokiVersion;
	CK_UTF8CHAR manufacturerID[32];
	CK_FLAGS flags;
	CK_UTF8CHAR libraryDescription[32];
	CK_VERSION libraryVersion;
} CK_INFO;

typedef struct CK_SLOT_INFO {
	CK_UTF8CHAR slotDescription[64];
	CK_UTF8CHAR manufacturerID[32];
	CK_FLAGS flags;
	CK_VERSION hardwareVersion;
	CK_VERSION firmwareVersion;
} CK_SLOT_INFO;

typedef struct CK_TOKEN_INFO {
	CK_UTF8CHAR label[32];
	CK_UTF8CHAR manufacturerID[32];
	CK_UTF8CHAR model[16];
	CK_UTF8CHAR serialNumber[16];
	CK_FLAGS flags;
	CK_ULONG ulMaxSessionCount;
	CK_ULONG ulSessionCount;
	CK_ULONG ulMaxRwSessionCount;
	CK_ULONG ulRwSessionCount;
	CK_ULONG ulMaxPinLen;
	CK_ULONG ulMinPinLen;
	CK_ULONG ulTotalPublicMemory;
	CK_ULONG ulFreePublicMemory;
	CK_ULONG ulTotalPrivateMemory;
	CK_ULONG ulFreePrivateMemory;
	CK_VERSION hardwareVersion;
	CK_VERSION firmwareVersion;
	CK_UTF8CHAR utcTime[16];
} CK_TOKEN_INFO;

typedef struct CK_SESSION_INFO {
	CK_SLOT_ID slotID;
	CK_ULONG state;
	CK_FLAGS flags;
	CK_ULONG ulDeviceError;
} CK_SESSION_INFO;

typedef struct CK_MECHANISM_INFO {
	CK_ULONG ulMinKeySize;
	CK_ULONG ulMaxKeySize;
	CK_FLAGS flags;
} CK_MECHANISM_INFO;

typedef struct CK_ATTRIBUTE {
	CK_ATTRIBUTE_TYPE type;
	void *pValue;
	CK_ULONG ulValueLen;
} CK_ATTRIBUTE;

typedef struct CK_MECHANISM {
	CK_MECHANISM_TYPE mechanism;
	void *pParameter;
	CK_ULONG ulParameterLen;
} CK_MECHANISM;

typedef struct CK_C_INITIALIZE_ARGS {
	void *CreateMutex;
	void *DestroyMutex;
	void *LockMutex;
	void *UnlockMutex;
	CK_FLAGS flags;
	void *pReserved;
} CK_C_INITIALIZE_ARGS;

typedef CK_RV (*CK_NOTIFY)(CK_SESSION_HANDLE, CK_NOTIFICATION, void *);

/* CK_FUNCTION_LIST: the version, then the 68 function pointers of v2.40 in
 * the standard's order (see funclist.c). */
typedef struct CK_FUNCTION_LIST {
	CK_VERSION version;
	void *functions[68];
} CK_FUNCTION_LIST;

#ifdef _WIN32
#pragma pack(pop, cryptoki)
#endif

/* Field access for the Go code: under 1-byte packing the pointer after a
 * CK_ULONG is misaligned and cgo cannot name it, so attributes and
 * mechanisms are read and written here. */
static inline CK_ATTRIBUTE *kep_attr(CK_ATTRIBUTE *t, CK_ULONG i) { return t + i; }
static inline CK_ATTRIBUTE_TYPE kep_attr_type(const CK_ATTRIBUTE *a) { return a->type; }
static inline void *kep_attr_value(const CK_ATTRIBUTE *a) { return a->pValue; }
static inline CK_ULONG kep_attr_len(const CK_ATTRIBUTE *a) { return a->ulValueLen; }
static inline void kep_attr_set_len(CK_ATTRIBUTE *a, CK_ULONG n) { a->ulValueLen = n; }
static inline CK_MECHANISM_TYPE kep_mech_type(const CK_MECHANISM *m) { return m->mechanism; }
static inline void *kep_mech_param(const CK_MECHANISM *m) { return m->pParameter; }
static inline CK_ULONG kep_mech_param_len(const CK_MECHANISM *m) { return m->ulParameterLen; }
static inline void *kep_init_reserved(const CK_C_INITIALIZE_ARGS *a) { return a->pReserved; }

#endif
