// Package cades is the object model of CryptoPro's browser plug-in API
// (CAdESCOM, the objects behind window.cadesplugin), served by the kep
// agent so that portals written for CryptoPro's plug-in sign with kep
// unchanged. agent/client/cadesplugin.js is a thin proxy that forwards
// every property read, propset_Name and method call to a Session by object
// id; the objects, their string formats and their errors live here only.
//
// A Session is one connection's handle table (Limits: 4096 objects, 64 MiB
// of content held). The agent releases it on ReleasePluginObjects and when
// the connection ends. Certificates come from every token and the software
// token the page may see (Backend.Certificates); every signature goes
// through Backend.WithKey, which is the agent's own sign path: the
// confirmation window, the PIN, the audit log.
//
// Shapes, as CryptoPro's plug-in gives them: SubjectName/IssuerName in
// CryptoAPI's form (FormatName), Thumbprint as 40 upper-case hex digits,
// SerialNumber upper-case hex, dates as ISO 8601 strings, certificates and
// signatures as base64 DER, HashedData.Value as upper-case hex, errors as a
// Russian message followed by " (0x8XXXXXXX)" with the HRESULT CryptoAPI
// and the smart-card subsystem define for the cause (errors.go).
//
// # Warnings
//
//   - CPSigner.KeyPin is used only for the origins the operator lists with
//     --page-pin-origin; anywhere else the agent drops it and the user types
//     the PIN in the agent's window.
//   - CPSigner.TSAAddress makes the agent send a time-stamp request (the
//     signature's digest) to the address the page names, after the user
//     approved the signature; an empty TSAAddress uses the agent's --tsa.
//   - A signing time a page adds (CPAttribute, CADESCOM_AUTHENTICATED_
//     ATTRIBUTE_SIGNING_TIME) must be within 5 minutes of the agent's clock.
//   - About reports plug-in 2.0.15000 and CSP 5.0 as the API levels kep
//     answers (wrappers refuse older ones); CSPName says kep. There is no
//     CryptoPro CSP behind it.
//
// # Members
//
// Who calls them: cp = npm crypto-pro 2.5.2, cpc = crypto-pro-cadesplugin
// 1.1.2, cpjs = crypto-pro-js 2.3.3, page = the demo portal's /cades page
// (CryptoPro's async-sample style); all four run in this package's tests.
//
//	class / member                          called by          kep
//	cadesplugin: CreateObjectAsync,         cp cpc cpjs page   yes (JS); no CreateObject (async only)
//	  async_spawn, set_log_level,
//	  getLastError, ReleasePluginObjects,
//	  JSModuleVersion, constants
//	About: PluginVersion, Version,          cp cpjs            yes (Version objects with toString,
//	  CSPVersion(), CSPName(),                                 MajorVersion, MinorVersion, BuildVersion)
//	  ProviderVersion(), Major/Minor/Build
//	Store: Open(loc, name, mode),           cp cpc cpjs page   yes: "My" of CURRENT_USER (2) and
//	  Certificates, Close, Location, Name                      CONTAINER_STORE (100) = the tokens;
//	                                                           other stores are empty; Delete, Import no
//	Certificates: Count, Item(i), Find      cp cpc cpjs page   Find: SHA1_HASH 0, SUBJECT_NAME 1,
//	                                                           ISSUER_NAME 2, EXTENDED_PROPERTY 6 with
//	                                                           KEY_PROV_INFO 2, APPLICATION_POLICY 7,
//	                                                           CERTIFICATE_POLICY 8, TIME_VALID 9,
//	                                                           NOT_YET_VALID 10, EXPIRED 11, KEY_USAGE
//	                                                           12, bFindValidOnly; Select no
//	Certificate: SubjectName, IssuerName,   cp cpc cpjs page   yes; Import(base64/PEM) for
//	  Thumbprint, SerialNumber, Valid*Date,                    CAdESCOM.Certificate; PrivateKey
//	  Version, HasPrivateKey(), IsValid()                      (ContainerName, ProviderName,
//	  .Result, Export(0|1), PublicKey()                        ProviderType 80/81, KeySpec); Display,
//	  .Algorithm.FriendlyName/.Value,                          PrivateKey.CachePin/ChangePin no
//	  .Length, .EncodedKey, GetInfo(0…7),
//	  ExtendedKeyUsage().EKUs.Item(i).OID,
//	  KeyUsage(), BasicConstraints(),
//	  FindPrivateKey()
//	CPSigner: Certificate, Options 0/1/2,   cp cpc cpjs page   yes; KeyPin only for --page-pin-origin;
//	  AuthenticatedAttributes2, TSAAddress,                    UnauthenticatedAttributes must stay
//	  CheckCertificate, KeyPin,                                empty; Load, Display no
//	  SigningTime, SignatureTimeStampTime
//	CPAttributes: Add, Item, Count, Clear,  cp cpc cpjs page   yes
//	  Remove
//	CPAttribute: Name, Value, ValueEncoding cp cpc cpjs page   SIGNING_TIME 0 yes; DOCUMENT_NAME 1 and
//	                                                           DOCUMENT_DESCRIPTION 2 fail at signing
//	                                                           (E_NOTIMPL); OID no
//	CadesSignedData: ContentEncoding,       cp cpc cpjs page   yes: BES (1) and PKCS7_TYPE (0xFFFF) as
//	  Content, SignCades(signer, type,                         CAdES-BES; T (5) and X-L1 (0x5D; also
//	  detached, enc), SignHash, CoSignCades,                   DEFAULT 0, X-L1 in CryptoPro) with
//	  CoSignHash, VerifyCades(msg, type,                       TSAAddress or --tsa, X-L1 fetching the
//	  detached), VerifyHash, Signers,                          revocation data online; detached and
//	  Certificates, DisplayData                                attached; VerifyCades with 0x5D requires
//	                                                           level X-L1; EnhanceCades, Display no
//	CPSigners: Count, Item(i)               page               yes (Certificate, SigningTime,
//	                                                           SignatureTimeStampTime of each signer)
//	HashedData: Algorithm 101/102 (and      cp cpjs page       yes; GOST R 34.11-94 (100) refused
//	  SHA-1/256/384/512), DataEncoding,                        (NTE_BAD_ALGID); Key (HMAC) no
//	  Hash (repeatable), SetHashValue, Value
//	SignedXML, CPEnvelopedData,             cp cpjs (XML)      no: CreateObjectAsync fails with
//	  RawSignature, SymmetricAlgorithm,                        "… не поддерживается kep (0x80004001)"
//	  X509Enrollment.*, any other CAdESCOM.*
package cades
