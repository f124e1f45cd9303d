// @ts-check
// cadesplugin.js — CryptoPro's browser plug-in API (window.cadesplugin,
// CreateObjectAsync("CAdESCOM.…")) answered by the kep agent
// (https://github.com/kepkit/kep), so that pages written for CryptoPro's
// plug-in sign with kep unchanged.
//
// Load it before CryptoPro's loader (cadesplugin_api.js), which returns at
// once when window.cadesplugin is defined:
//   <script src="http://127.0.0.1:24321/cadesplugin.js"></script>
// It defines nothing when window.cadesplugin already exists.
//
// This is a thin proxy: every object lives in the agent (agent/cades), one
// table per connection; a proxy object here holds only its id and the
// member names the agent gave it. Property reads return Promises,
// propset_Name(v) sets, methods return Promises; objects travel as ids,
// dates as ISO strings. Only the asynchronous API exists (no CreateObject).
// The transport is kep.js (imported from the agent that served this file,
// or from kep's extension when the extension put this file in the page).
(function () {
  "use strict";
  /** @type {any} */
  const w = window;
  if (w.cadesplugin) return;

  const script = document.currentScript;
  const here = script && /** @type {HTMLScriptElement} */ (script).src;
  const base = here ? new URL(".", here) : new URL("http://127.0.0.1:24321/");
  const portAttr = script && script.getAttribute("data-kep-port");
  const port = Number(portAttr || base.port || 24321);

  /** kep.js, connected. Put in the page by kep's extension (the per-site
   * switch registers this file as a page-world content script, which has no
   * currentScript), kep.js comes from the extension (window.kepExtension
   * .client() gives its URL) and takes only the extension's road: the
   * loopback port is what Chrome's Local Network Access prompt stands in
   * front of, and what the extension is there to avoid. Loaded by a
   * <script src> tag, kep.js comes from beside this file, as it always has. */
  async function kepjs() {
    // At document_start the extension's page.js (window.kepExtension) may
    // come after this file: look once more after the scripts of this task.
    if (!script && !w.kepExtension) await new Promise((r) => setTimeout(r, 0));
    const ext = !script && w.kepExtension;
    if (ext && typeof ext.client === "function") {
      return ext.client().then((/** @type {string} */ url) => import(url)).then((m) => m.connect({ road: "extension" }));
    }
    return import(new URL("kep.js", base).href).then((m) => m.connect({ port }));
  }

  /** @type {Promise<any> | null} */
  let session = null;

  /** The connection to the agent, opened (and the site approved) once. */
  function agent() {
    if (!session) {
      session = kepjs()
        .then(async (k) => {
          await k.ensureAccess();
          k.on("close", () => { session = null; });
          return k;
        });
      session.catch(() => { session = null; });
    }
    return session;
  }

  /** An Error whose message is the Russian text and the HRESULT, as CryptoPro's. */
  function toError(e) {
    if (e && typeof e.message === "string" && / \(0x[0-9A-Fa-f]{8}\)$/.test(e.message)) return new Error(e.message);
    const text = (e && (e.messageRu || e.message)) || String(e);
    return new Error(text + " (0x80004005)");
  }

  async function rpc(method, params) {
    try {
      const k = await agent();
      return await k.call(method, params);
    } catch (e) {
      throw toError(e);
    }
  }

  const ID = Symbol("kep.cades.id");

  /** Encodes an argument: proxies by id, dates as ISO strings. */
  function enc(v) {
    if (v === undefined || v === null) return null;
    if (v instanceof Date) return v.toISOString();
    if (typeof v === "object" && v[ID] !== undefined) return { $obj: v[ID] };
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
    throw toError(new Error("Параметр задан неверно: значение типа " + typeof v + " (0x80070057)"));
  }

  /** Decodes a result: an object reference becomes a proxy. */
  function dec(res) {
    const v = res && res.value;
    if (v && typeof v === "object" && typeof v.$obj === "number") return proxy(v);
    return v;
  }

  /** A proxy object for the agent's object ref (no "then": never a thenable). */
  function proxy(ref) {
    const id = ref.$obj;
    /** @type {any} */
    const o = {};
    Object.defineProperty(o, ID, { value: id });
    for (const name of ref.props || []) {
      Object.defineProperty(o, name, {
        enumerable: true,
        get: () => rpc("cades.get", { id, name }).then(dec),
      });
      o["propset_" + name] = (value) => rpc("cades.set", { id, name, value: enc(value) }).then(() => undefined);
    }
    for (const name of ref.methods || []) {
      if (name === "then") continue;
      o[name] = (...args) => {
        let list;
        try { list = args.map(enc); } catch (e) { return Promise.reject(e); }
        return rpc("cades.call", { id, name, args: list }).then(dec);
      };
    }
    return o;
  }

  /** Runs a generator whose yields are Promises (CryptoPro's async_spawn). */
  function async_spawn(generatorFunc) {
    const it = generatorFunc(Array.prototype.slice.call(arguments, 1));
    const step = (verb, arg) => {
      let r;
      try { r = it[verb](arg); } catch (e) { return Promise.reject(e); }
      if (r.done) return r.value;
      return Promise.resolve(r.value).then((v) => step("next", v), (e) => step("throw", e));
    };
    return step("next", undefined);
  }

  // The API's constants (values as CryptoPro's loader and @types/cadesplugin
  // define them; agent/cades tests that the agent agrees).
  const constants = /** @type {const} */ ({
    CADESCOM_CADES_DEFAULT: 0, CADESCOM_CADES_BES: 1, CADESCOM_CADES_T: 5, CADESCOM_CADES_X_LONG_TYPE_1: 0x5D,
    CADESCOM_PKCS7_TYPE: 0xFFFF,
    CADESCOM_ENCODE_BASE64: 0, CADESCOM_ENCODE_BINARY: 1, CADESCOM_ENCODE_ANY: -1,
    CAPICOM_ENCODE_BASE64: 0, CAPICOM_ENCODE_BINARY: 1, CAPICOM_ENCODE_ANY: -1,
    CADESCOM_BASE64_TO_BINARY: 1, CADESCOM_STRING_TO_UCS2LE: 0,
    CAPICOM_MEMORY_STORE: 0, CAPICOM_LOCAL_MACHINE_STORE: 1, CAPICOM_CURRENT_USER_STORE: 2,
    CAPICOM_ACTIVE_DIRECTORY_USER_STORE: 3, CAPICOM_SMART_CARD_USER_STORE: 4,
    CADESCOM_MEMORY_STORE: 0, CADESCOM_LOCAL_MACHINE_STORE: 1, CADESCOM_CURRENT_USER_STORE: 2,
    CADESCOM_ACTIVE_DIRECTORY_USER_STORE: 3, CADESCOM_SMART_CARD_USER_STORE: 4, CADESCOM_CONTAINER_STORE: 100,
    CAPICOM_MY_STORE: "My", CAPICOM_CA_STORE: "Ca", CAPICOM_ROOT_STORE: "Root", CAPICOM_OTHER_STORE: "AddressBook",
    CAPICOM_STORE_OPEN_READ_ONLY: 0, CAPICOM_STORE_OPEN_READ_WRITE: 1, CAPICOM_STORE_OPEN_MAXIMUM_ALLOWED: 2,
    CAPICOM_STORE_OPEN_EXISTING_ONLY: 128, CAPICOM_STORE_OPEN_INCLUDE_ARCHIVED: 256,
    CAPICOM_CERTIFICATE_FIND_SHA1_HASH: 0, CAPICOM_CERTIFICATE_FIND_SUBJECT_NAME: 1, CAPICOM_CERTIFICATE_FIND_ISSUER_NAME: 2,
    CAPICOM_CERTIFICATE_FIND_ROOT_NAME: 3, CAPICOM_CERTIFICATE_FIND_TEMPLATE_NAME: 4, CAPICOM_CERTIFICATE_FIND_EXTENSION: 5,
    CAPICOM_CERTIFICATE_FIND_EXTENDED_PROPERTY: 6, CAPICOM_CERTIFICATE_FIND_APPLICATION_POLICY: 7,
    CAPICOM_CERTIFICATE_FIND_CERTIFICATE_POLICY: 8, CAPICOM_CERTIFICATE_FIND_TIME_VALID: 9,
    CAPICOM_CERTIFICATE_FIND_TIME_NOT_YET_VALID: 10, CAPICOM_CERTIFICATE_FIND_TIME_EXPIRED: 11,
    CAPICOM_CERTIFICATE_FIND_KEY_USAGE: 12,
    CAPICOM_CERTIFICATE_INCLUDE_CHAIN_EXCEPT_ROOT: 0, CAPICOM_CERTIFICATE_INCLUDE_WHOLE_CHAIN: 1,
    CAPICOM_CERTIFICATE_INCLUDE_END_ENTITY_ONLY: 2,
    CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME: 0, CAPICOM_CERT_INFO_ISSUER_SIMPLE_NAME: 1,
    CAPICOM_CERT_INFO_SUBJECT_EMAIL_NAME: 2, CAPICOM_CERT_INFO_ISSUER_EMAIL_NAME: 3,
    CAPICOM_CERT_INFO_SUBJECT_UPN: 4, CAPICOM_CERT_INFO_ISSUER_UPN: 5,
    CAPICOM_CERT_INFO_SUBJECT_DNS_NAME: 6, CAPICOM_CERT_INFO_ISSUER_DNS_NAME: 7,
    CAPICOM_DIGITAL_SIGNATURE_KEY_USAGE: 128,
    CAPICOM_PROPID_UNKNOWN: 0, CAPICOM_PROPID_KEY_PROV_HANDLE: 1, CAPICOM_PROPID_KEY_PROV_INFO: 2,
    CAPICOM_PROPID_SHA1_HASH: 3, CAPICOM_PROPID_HASH_PROP: 3, CAPICOM_PROPID_MD5_HASH: 4, CAPICOM_PROPID_KEY_CONTEXT: 5,
    CAPICOM_PROPID_KEY_SPEC: 6, CAPICOM_PROPID_IE30_RESERVED: 7, CAPICOM_PROPID_PUBKEY_HASH_RESERVED: 8,
    CAPICOM_PROPID_ENHKEY_USAGE: 9, CAPICOM_PROPID_CTL_USAGE: 9, CAPICOM_PROPID_NEXT_UPDATE_LOCATION: 10,
    CAPICOM_PROPID_FRIENDLY_NAME: 11, CAPICOM_PROPID_PVK_FILE: 12, CAPICOM_PROPID_DESCRIPTION: 13,
    CAPICOM_PROPID_ACCESS_STATE: 14, CAPICOM_PROPID_SIGNATURE_HASH: 15, CAPICOM_PROPID_SMART_CARD_DATA: 16,
    CAPICOM_PROPID_EFS: 17, CAPICOM_PROPID_FORTEZZA_DATA: 18, CAPICOM_PROPID_ARCHIVED: 19,
    CAPICOM_PROPID_KEY_IDENTIFIER: 20, CAPICOM_PROPID_AUTO_ENROLL: 21, CAPICOM_PROPID_PUBKEY_ALG_PARA: 22,
    CAPICOM_PROPID_CROSS_CERT_DIST_POINTS: 23, CAPICOM_PROPID_ISSUER_PUBLIC_KEY_MD5_HASH: 24,
    CAPICOM_PROPID_SUBJECT_PUBLIC_KEY_MD5_HASH: 25, CAPICOM_PROPID_ENROLLMENT: 26, CAPICOM_PROPID_DATE_STAMP: 27,
    CAPICOM_PROPID_ISSUER_SERIAL_NUMBER_MD5_HASH: 28, CAPICOM_PROPID_SUBJECT_NAME_MD5_HASH: 29,
    CAPICOM_PROPID_EXTENDED_ERROR_INFO: 30, CAPICOM_PROPID_RENEWAL: 64, CAPICOM_PROPID_ARCHIVED_KEY_HASH: 65,
    CAPICOM_PROPID_FIRST_RESERVED: 66, CAPICOM_PROPID_LAST_RESERVED: 0x7FFF, CAPICOM_PROPID_FIRST_USER: 0x8000,
    CAPICOM_PROPID_LAST_USER: 0xFFFF,
    CAPICOM_OID_OTHER: 0, CAPICOM_OID_KEY_USAGE_EXTENSION: 10,
    CAPICOM_EKU_OTHER: 0, CAPICOM_EKU_SERVER_AUTH: 1, CAPICOM_EKU_CLIENT_AUTH: 2, CAPICOM_EKU_CODE_SIGNING: 3,
    CAPICOM_EKU_EMAIL_PROTECTION: 4, CAPICOM_EKU_SMARTCARD_LOGON: 5, CAPICOM_EKU_ENCRYPTING_FILE_SYSTEM: 6,
    CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME: 0, CAPICOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME: 1,
    CAPICOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION: 2,
    CADESCOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME: 0, CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME: 1,
    CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION: 2, CADESCOM_ATTRIBUTE_OTHER: -1,
    CADESCOM_DISPLAY_DATA_NONE: 0, CADESCOM_DISPLAY_DATA_CONTENT: 1, CADESCOM_DISPLAY_DATA_ATTRIBUTE: 2,
    CADESCOM_XML_SIGNATURE_TYPE_ENVELOPED: 0, CADESCOM_XML_SIGNATURE_TYPE_ENVELOPING: 1, CADESCOM_XML_SIGNATURE_TYPE_TEMPLATE: 2,
    CADESCOM_ENCRYPTION_ALGORITHM_RC2: 0, CADESCOM_ENCRYPTION_ALGORITHM_RC4: 1, CADESCOM_ENCRYPTION_ALGORITHM_DES: 2,
    CADESCOM_ENCRYPTION_ALGORITHM_3DES: 3, CADESCOM_ENCRYPTION_ALGORITHM_AES: 4, CADESCOM_ENCRYPTION_ALGORITHM_GOST_28147_89: 25,
    CADESCOM_HASH_ALGORITHM_SHA1: 0, CADESCOM_HASH_ALGORITHM_MD2: 1, CADESCOM_HASH_ALGORITHM_MD4: 2, CADESCOM_HASH_ALGORITHM_MD5: 3,
    CADESCOM_HASH_ALGORITHM_SHA_256: 4, CADESCOM_HASH_ALGORITHM_SHA_384: 5, CADESCOM_HASH_ALGORITHM_SHA_512: 6,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411: 100, CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256: 101,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_512: 102, CADESCOM_HASH_ALGORITHM_CP_GOST_3411_HMAC: 110,
    CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256_HMAC: 111, CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_512_HMAC: 112,
    CADESCOM_AllowNone: 0, CADESCOM_AllowNoOutstandingRequest: 1, CADESCOM_AllowUntrustedCertificate: 2,
    CADESCOM_AllowUntrustedRoot: 4, CADESCOM_SkipInstallToStore: 0x10000000,
    LOG_LEVEL_DEBUG: 4, LOG_LEVEL_INFO: 2, LOG_LEVEL_ERROR: 1,
    XmlDsigGost3410Url: "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102001-gostr3411",
    XmlDsigGost3410UrlObsolete: "http://www.w3.org/2001/04/xmldsig-more#gostr34102001-gostr3411",
    XmlDsigGost3411Url: "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr3411",
    XmlDsigGost3411UrlObsolete: "http://www.w3.org/2001/04/xmldsig-more#gostr3411",
    XmlDsigGost3411Url2012256: "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256",
    XmlDsigGost3410Url2012256: "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256",
    XmlDsigGost3411Url2012512: "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-512",
    XmlDsigGost3410Url2012512: "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-512",
  });

  const ready = agent().then(() => undefined, (e) => { throw toError(e); });
  // An unhandled rejection is reported by the page that awaits cadesplugin.
  ready.catch(() => {});

  let logLevel = 1;
  /** @type {CADESPluginAsync} */
  const plugin = Object.assign(/** @type {Promise<never>} */ (/** @type {unknown} */ (ready)), constants, {
    JSModuleVersion: "2.3.2",
    current_log_level: 1,
    /** @param {string} name */
    CreateObjectAsync: (name) => rpc("cades.create", { progId: String(name) }).then((ref) => proxy(ref)),
    ReleasePluginObjects: () => rpc("cades.release", { all: true }).then(() => true),
    async_spawn,
    set: () => {},
    set_log_level: (level) => { logLevel = level; },
    getLastError: (e) => (e && e.message) || String(e),
    is_capilite_enabled: () => false,
  });
  Object.defineProperty(plugin, "current_log_level", { get: () => logLevel });
  w.cadesplugin = plugin;
})();
