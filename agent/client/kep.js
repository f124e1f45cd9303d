// kep.js — the browser client of the kep agent (https://github.com/kepkit/kep).
// A dependency-free ES module: import { connect } from "./kep.js".
// The page talks JSON-RPC 2.0 to the agent by one of two roads: kep's browser
// extension (native messaging: no network socket, no Local Network Access
// prompt), when it is installed, else a WebSocket to 127.0.0.1. connect()
// picks the road; Kep.road says which it took and Kep.roads why the other
// failed. PINs are entered in the agent's own window, never in the page.

export const DEFAULT_PORT = 24321;

/** An error from the agent or from reaching it; `reason` is a stable code. */
export class KepError extends Error {
  constructor(reason, message, data) {
    super(message || reason);
    this.name = "KepError";
    this.reason = reason;
    this.data = data || {};
    this.messageRu = (data && data.messageRu) || RU[reason] || "";
  }
}

const RU = {
  AGENT_UNREACHABLE: "Программа kep не запущена на этом компьютере: запустите «kep agent».",
  AGENT_PORT_BUSY: "Порт kep занят другой программой.",
  LOCAL_NETWORK_ACCESS_DENIED: "Браузер запретил сайту доступ к программам на этом компьютере: разрешите «доступ к локальной сети» для сайта в настройках браузера.",
  CONNECTION_CLOSED: "Соединение с kep прервано.",
  AGENT_NOT_TRUSTED: "На порту kep отвечает другая программа, не ваш kep: не вводите PIN-код и сообщите администратору.",
  EXTENSION_NOT_INSTALLED: "Расширение kep не установлено в этом браузере.",
  HOST_NOT_REGISTERED: "Расширение kep установлено, но программа kep не зарегистрирована для этого браузера: выполните «kep install».",
  HOST_FORBIDDEN: "Браузер не разрешает расширению запускать программу kep: выполните «kep install» заново.",
  HOST_EXITED: "Программа kep завершилась, едва браузер её запустил: проверьте установку командой «kep doctor».",
  HOST_ERROR: "Расширение kep не смогло запустить программу kep.",
  EXTENSION_TIMEOUT: "Расширение kep не ответило вовремя.",
  AGENT_REFUSED: "Программа kep отказала этой странице.",
};

const KEY_STORE = "kep.agentKey.v1";

function b64encode(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Decodes standard base64 into bytes. */
export function fromBase64(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

async function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === "string") return new TextEncoder().encode(data);
  if (typeof Blob !== "undefined" && data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  throw new TypeError("data must be a Uint8Array, ArrayBuffer, Blob or string");
}

async function lnaDenied() {
  try {
    for (const name of ["loopback-network", "local-network-access", "local-network"]) {
      try {
        const st = await navigator.permissions.query({ name });
        if (st.state === "denied") return true;
      } catch (_) { /* unknown permission name in this browser */ }
    }
  } catch (_) { /* no Permissions API */ }
  return false;
}

/**
 * Finds the agent: resolves to its discovery document, or rejects with a
 * KepError whose reason is AGENT_UNREACHABLE, AGENT_PORT_BUSY or
 * LOCAL_NETWORK_ACCESS_DENIED.
 */
export async function discover({ port = DEFAULT_PORT, timeout = 3000 } = {}) {
  const ctl = new AbortController();
  const t = setTimeout(() => ctl.abort(), timeout);
  let r;
  try {
    r = await fetch(`http://127.0.0.1:${port}/`, { signal: ctl.signal, cache: "no-store", targetAddressSpace: "loopback" });
  } catch (e) {
    if (await lnaDenied()) throw new KepError("LOCAL_NETWORK_ACCESS_DENIED", "local network access denied by the browser");
    throw new KepError("AGENT_UNREACHABLE", `kep agent is not reachable on port ${port}: ${e}`);
  } finally {
    clearTimeout(t);
  }
  let doc = null;
  try { doc = await r.json(); } catch (_) { /* not JSON */ }
  if (!r.ok || !doc || doc.name !== "kep") throw new KepError("AGENT_PORT_BUSY", `port ${port} answers, but not as kep`);
  return doc;
}

/** A channel to kep through the browser extension, shaped as much of a
 * WebSocket as Kep uses. */
class ExtensionChannel {
  constructor(port) {
    this.port = port;
    this.readyState = 1;
    this.onmessage = null;
    this.onclose = null;
    this.closeInfo = null;
    port.onmessage = (ev) => {
      const m = ev.data;
      if (m && typeof m.kep === "string") {
        if (m.kep === "closed") this._closed(m);
        return;
      }
      if (this.onmessage) this.onmessage(m);
    };
  }
  sendObject(obj) { this.port.postMessage(obj); }
  close() {
    if (this.readyState !== 1) return;
    this.port.postMessage({ kep: "close" });
    this.port.close();
    this._closed({ reason: "CONNECTION_CLOSED" });
  }
  _closed(m) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closeInfo = m;
    if (this.onclose) this.onclose(m);
  }
}

/** Whether kep's browser extension is in this page (it defines
 * window.kepExtension before the page's scripts run). */
export function extensionInstalled() {
  return typeof window !== "undefined" && !!window.kepExtension && typeof window.kepExtension.open === "function";
}

/** Opens the extension road: resolves once kep's native host reached the
 * agent, or rejects with EXTENSION_NOT_INSTALLED, HOST_NOT_REGISTERED,
 * HOST_FORBIDDEN, HOST_EXITED, AGENT_UNREACHABLE, AGENT_REFUSED, EXTENSION_TIMEOUT… */
function openExtension(timeout) {
  if (!extensionInstalled()) return Promise.reject(new KepError("EXTENSION_NOT_INSTALLED", "kep's browser extension is not installed in this browser"));
  const port = window.kepExtension.open();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { port.close(); reject(new KepError("EXTENSION_TIMEOUT", `kep's extension did not answer in ${timeout} ms`)); }, timeout);
    port.onmessage = (ev) => {
      const m = ev.data;
      if (!m || typeof m.kep !== "string") return;
      clearTimeout(t);
      if (m.kep === "ready") {
        resolve(new ExtensionChannel(port));
      } else {
        port.close();
        const reason = m.reason || "HOST_ERROR";
        reject(new KepError(reason, m.message || reason, { reason, details: m.code ? { code: m.code } : undefined }));
      }
    };
    port.start();
  });
}

function roadError(e) {
  return { reason: (e && e.reason) || "INTERNAL_ERROR", message: String((e && e.message) || e) };
}

/**
 * Connects to the agent. road: "auto" (the extension when it is installed,
 * else the WebSocket), "extension" or "websocket". The Kep returned says
 * which road it took (road) and what happened on each (roads); when both
 * fail the error's data.details.roads says why each did.
 */
export async function connect({ port = DEFAULT_PORT, timeout = 5000, road = "auto", extensionTimeout = 20000 } = {}) {
  const roads = {};
  if (road !== "websocket") {
    try {
      const ch = await openExtension(extensionTimeout);
      roads.extension = { ok: true };
      return await start(ch, "extension", roads);
    } catch (e) {
      roads.extension = roadError(e);
      if (road === "extension" || e.reason === "AGENT_NOT_TRUSTED") throw withRoads(e, roads);
    }
  }
  try {
    const ws = await openWebSocket(port, timeout);
    roads.websocket = { ok: true };
    return await start(ws, "websocket", roads);
  } catch (e) {
    roads.websocket = roadError(e);
    // The extension's failure is the one to fix when it is installed
    // (kep install, kep agent): the WebSocket is only the fallback.
    const ext = roads.extension;
    if (ext && ext.reason !== "EXTENSION_NOT_INSTALLED" && e.reason !== "AGENT_NOT_TRUSTED") {
      throw withRoads(new KepError(ext.reason, ext.message), roads);
    }
    throw withRoads(e, roads);
  }
}

function withRoads(e, roads) {
  if (!(e instanceof KepError)) e = new KepError("INTERNAL_ERROR", String(e));
  e.data = { ...e.data, details: { ...(e.data.details || {}), roads } };
  e.roads = roads;
  return e;
}

async function start(ch, road, roads) {
  const k = new Kep(ch);
  k.road = road;
  k.roads = roads;
  k.agent = await k.info();
  try {
    await k.verifyAgent();
  } catch (e) {
    ch.close();
    throw e;
  }
  return k;
}

async function openWebSocket(port, timeout) {
  const doc = await discover({ port, timeout });
  const url = doc.ws || `ws://127.0.0.1:${port}/ws`;
  const ws = await new Promise((resolve, reject) => {
    let sock;
    try {
      sock = new WebSocket(url);
    } catch (e) {
      reject(new KepError("AGENT_UNREACHABLE", String(e)));
      return;
    }
    const t = setTimeout(() => { sock.close(); reject(new KepError("AGENT_UNREACHABLE", "timeout")); }, timeout);
    sock.onopen = () => { clearTimeout(t); resolve(sock); };
    sock.onerror = () => { clearTimeout(t); reject(new KepError("AGENT_UNREACHABLE", "the agent refused the connection (origin not allowed?)")); };
  });
  return ws;
}

function pinnedKey() {
  try { return localStorage.getItem(KEY_STORE); } catch (_) { return null; }
}

function pinKey(b64) {
  try { localStorage.setItem(KEY_STORE, b64); } catch (_) { /* storage blocked: no pinning */ }
}

/** A connection to the agent, over either road. */
export class Kep {
  constructor(ws) {
    this.ws = ws;
    this.road = ws instanceof ExtensionChannel ? "extension" : "websocket";
    this.roads = {};
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Map();
    if (ws instanceof ExtensionChannel) {
      ws.onmessage = (msg) => this._dispatch(msg);
    } else {
      ws.onmessage = (ev) => this._onMessage(ev.data);
    }
    ws.onclose = (info) => {
      const reason = (ws.closeInfo && ws.closeInfo.reason) || "CONNECTION_CLOSED";
      const message = (ws.closeInfo && ws.closeInfo.message) || "connection to kep closed";
      for (const { reject } of this.pending.values()) reject(new KepError(reason === "AGENT_REFUSED" ? "CONNECTION_CLOSED" : reason, message));
      this.pending.clear();
      this._emit("close", ws.closeInfo || {});
    };
  }

  _onMessage(text) {
    let msg;
    try { msg = JSON.parse(text); } catch (_) { return; }
    this._dispatch(msg);
  }

  _dispatch(msg) {
    if (!msg || typeof msg !== "object") return;
    if (msg.id === undefined || msg.id === null) {
      if (msg.method) this._emit(msg.method, msg.params);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) {
      const d = msg.error.data || {};
      p.reject(new KepError(d.reason || "INTERNAL_ERROR", msg.error.message, d));
    } else {
      p.resolve(msg.result);
    }
  }

  _emit(name, params) {
    for (const fn of this.listeners.get(name) || []) fn(params);
  }

  /** Subscribes to a notification ("tokens.changed") or "close". */
  on(name, fn) {
    if (!this.listeners.has(name)) this.listeners.set(name, []);
    this.listeners.get(name).push(fn);
    return () => this.listeners.set(name, this.listeners.get(name).filter((f) => f !== fn));
  }

  /** Calls a JSON-RPC method. */
  call(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) {
        reject(new KepError("CONNECTION_CLOSED", "connection to kep closed"));
        return;
      }
      this.pending.set(id, { resolve, reject });
      const msg = { jsonrpc: "2.0", id, method, params: params || {} };
      if (this.ws.sendObject) this.ws.sendObject(msg);
      else this.ws.send(JSON.stringify(msg));
    });
  }

  info() { return this.call("agent.info"); }

  /**
   * Checks that the program on the agent's port is this user's kep: the
   * agent's key for this site is pinned (localStorage) the first time the
   * site is approved, and every later connection must sign a fresh nonce
   * with it. Rejects with AGENT_NOT_TRUSTED otherwise. Sites not approved
   * yet have no key to check; connect() and requestAccess() call this.
   */
  async verifyAgent() {
    const info = this.agent;
    if (!info || !info.approved) return;
    if (!info.agentKey || typeof crypto === "undefined" || !crypto.subtle) {
      if (pinnedKey()) throw new KepError("AGENT_NOT_TRUSTED", "the agent did not present its key");
      return;
    }
    const pinned = pinnedKey();
    if (pinned && pinned !== info.agentKey) throw new KepError("AGENT_NOT_TRUSTED", "the agent's key is not the one this site knows");
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const res = await this.call("agent.prove", { nonce: b64encode(nonce) });
    const key = await crypto.subtle.importKey("spki", fromBase64(info.agentKey), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const msg = new Uint8Array([...new TextEncoder().encode("kep-agent-proof-v1\n" + info.origin + "\n"), ...nonce]);
    const ok = res && res.origin === info.origin &&
      await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, fromBase64(res.signature), msg);
    if (!ok) throw new KepError("AGENT_NOT_TRUSTED", "the agent could not prove its key");
    if (!pinned) pinKey(info.agentKey);
  }

  /** Asks the user (in the agent's window) to let this site use kep. */
  async requestAccess() {
    const res = await this.call("agent.requestAccess");
    this.agent = await this.info();
    await this.verifyAgent();
    return res;
  }
  /** Requests access when the site is not approved yet. */
  async ensureAccess() {
    const info = await this.info();
    if (!info.approved) await this.requestAccess();
  }
  /** The agent's diagnosis, with the page's own about the roads:
   * transport = { road, extension: {ok}|{reason,message}, websocket: … }. */
  async diagnose() {
    const rep = await this.call("agent.diagnose");
    return { ...rep, transport: { road: this.road, ...this.roads } };
  }
  async tokens() { return (await this.call("tokens.list")).tokens; }
  async certificates() { return (await this.call("certs.list")).certificates; }
  checkCertificate(certId, purpose) { return this.call("certs.check", purpose ? { certId, purpose } : { certId }); }

  /**
   * Signs a document: CAdES-BES, detached unless detached === false.
   * Large documents (Blob/File) are sent in chunks; onProgress(sent, total).
   * Resolves to { cms: Uint8Array, cmsBase64, certId, hashAlg, hash, signingTime }.
   */
  async sign({ certId, data, detached = true, description, onProgress, pin }) {
    const limit = Math.floor(((this.agent && this.agent.maxMessage) || 8 << 20) / 2);
    const size = typeof Blob !== "undefined" && data instanceof Blob ? data.size : null;
    let params;
    if (detached && size !== null && size > limit) {
      const up = await this.call("upload.begin", { certId, description });
      // 1 MiB chunks: the agent holds a chunk's message while it hashes it,
      // so its memory follows the chunk, not the document. An agent whose
      // upload.begin gives a window of 2 or more hashes chunks in the order
      // sent and stops reading while it holds that many: the next chunk is
      // read and encoded while it hashes the last. Without one, a chunk at
      // a time (an older agent could hash chunks sent ahead out of order).
      const chunk = Math.min(limit, up.maxChunk || limit, 1 << 20);
      const ahead = up.window >= 2 ? 1 : 0;
      const pending = [];
      const settle = async () => {
        const { call, sent } = pending.shift();
        await call;
        if (onProgress) onProgress(sent, size);
      };
      try {
        for (let off = 0; off < size; off += chunk) {
          const part = new Uint8Array(await data.slice(off, off + chunk).arrayBuffer());
          const call = this.call("upload.chunk", { uploadId: up.uploadId, data: b64encode(part) });
          call.catch(() => {}); // awaited in settle
          pending.push({ call, sent: Math.min(off + chunk, size) });
          while (pending.length > ahead) await settle();
        }
        while (pending.length) await settle();
      } catch (e) {
        this.call("upload.cancel", { uploadId: up.uploadId }).catch(() => {});
        throw e;
      }
      params = { certId, uploadId: up.uploadId };
    } else {
      params = { certId, data: b64encode(await toBytes(data)), detached };
    }
    if (description) params.description = description;
    if (pin !== undefined) params.pin = pin;
    return withBytes(await this.call("sign", params));
  }

  /** Signs a digest computed elsewhere (detached). hash: bytes or base64. */
  async signHash({ certId, hash, hashAlg, description, pin }) {
    const params = { certId, hash: typeof hash === "string" ? hash : b64encode(await toBytes(hash)), hashAlg };
    if (description) params.description = description;
    if (pin !== undefined) params.pin = pin;
    return withBytes(await this.call("sign", params));
  }

  /** Verifies a CMS signature; data is the detached document. */
  async verify({ cms, data, purpose }) {
    const params = { cms: typeof cms === "string" ? cms : b64encode(await toBytes(cms)) };
    if (data !== undefined) params.data = b64encode(await toBytes(data));
    if (purpose) params.purpose = purpose;
    return this.call("verify", params);
  }

  /**
   * Signs a relying party's login challenge. format "bound" (default: the
   * challenge object from the server) or "esia-compatible" (a string).
   * Resolves to { format, cms } — post it to the server as is.
   */
  login({ certId, challenge, format = "bound", pin }) {
    const params = { certId, challenge, format };
    if (pin !== undefined) params.pin = pin;
    return this.call("login.sign", params);
  }

  close() { this.ws.close(); }
}

function withBytes(res) {
  return { ...res, cmsBase64: res.cms, cms: fromBase64(res.cms) };
}
