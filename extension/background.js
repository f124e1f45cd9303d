// kep extension — background (a service worker in the Chromium family, an
// event page in Firefox). One native-messaging port per page channel: the
// browser starts `kep native-host`, which relays to the user's kep agent.
// The origin given to kep is the sender's, as the browser reports it for the
// frame; nothing the page sends can change it.
"use strict";

const HOST = "io.github.kepkit.kep";
const CADES_SCRIPT = "kep-cadesplugin";

function senderOrigin(s) {
  if (s.origin && s.origin !== "null") return s.origin;
  try { return new URL(s.url).origin; } catch (_) { return "null"; }
}

// What the browser says when connectNative fails, as kep.js's reasons.
function hostReason(message) {
  const m = String(message || "");
  if (/not found/i.test(m)) return "HOST_NOT_REGISTERED";
  if (/forbidden/i.test(m)) return "HOST_FORBIDDEN";
  if (/exited/i.test(m)) return "HOST_EXITED";
  return "HOST_ERROR";
}

function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

chrome.runtime.onConnect.addListener((page) => {
  if (page.name !== "kep" || !page.sender || !page.sender.tab) return page.disconnect();
  const origin = senderOrigin(page.sender);
  let host;
  try {
    host = chrome.runtime.connectNative(HOST);
  } catch (e) {
    page.postMessage({ kep: "closed", reason: "HOST_NOT_REGISTERED", message: String(e) });
    return page.disconnect();
  }
  let closedSent = false;
  let parts = [];
  host.onMessage.addListener((m) => {
    if (m && m.kep === "part") {
      // A reply over the browser's 1 MiB limit, in base64 pieces.
      parts.push(b64bytes(m.data));
      if (m.more) return;
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) { all.set(p, off); off += p.length; }
      parts = [];
      try { m = JSON.parse(new TextDecoder().decode(all)); } catch (_) { return; }
    }
    if (m && m.kep === "closed") closedSent = true;
    page.postMessage(m);
  });
  host.onDisconnect.addListener(() => {
    const err = chrome.runtime.lastError;
    if (!closedSent) {
      const message = err ? err.message : "kep native-host ended";
      page.postMessage({ kep: "closed", reason: hostReason(message), message });
    }
    page.disconnect();
  });
  page.onMessage.addListener((m) => {
    if (m && typeof m === "object" && m.jsonrpc === "2.0" && !("kep" in m)) host.postMessage(m);
  });
  page.onDisconnect.addListener(() => host.disconnect());
  host.postMessage({ kep: "open", v: 1, origin });
});

// The per-site switch: whether kep answers window.cadesplugin (CryptoPro's
// browser API) on a site. Off unless the user turns it on for that site in
// the extension's popup, so that CryptoPro's own plug-in keeps answering
// where it is installed. A site turned on gets cadesplugin.js (kep's
// compatibility layer, when this package carries it) in its page world at
// document_start, before the site's cadesplugin_api.js looks for it. There
// it imports the package's kep.js (web-accessible, by its dynamic URL) and
// takes only the extension's road, never the agent's loopback port.
async function cadesOrigins() {
  const { cadesOrigins = [] } = await chrome.storage.local.get("cadesOrigins");
  return cadesOrigins;
}

async function hasCadesScript() {
  try { return (await fetch(chrome.runtime.getURL("cadesplugin.js"), { method: "HEAD" })).ok; } catch (_) { return false; }
}

async function applyCades() {
  const origins = await cadesOrigins();
  try { await chrome.scripting.unregisterContentScripts({ ids: [CADES_SCRIPT] }); } catch (_) { /* none yet */ }
  if (origins.length === 0 || !(await hasCadesScript())) return;
  await chrome.scripting.registerContentScripts([{
    id: CADES_SCRIPT, js: ["cadesplugin.js"], matches: origins.map((o) => o + "/*"),
    runAt: "document_start", world: "MAIN", allFrames: true, persistAcrossSessions: true,
  }]);
}

chrome.runtime.onMessage.addListener((m, sender, reply) => {
  if (!m || m.kep !== "cades" || sender.id !== chrome.runtime.id || sender.tab) return false;
  (async () => {
    let origins = await cadesOrigins();
    if (typeof m.origin === "string" && /^https:\/\/[^/]+$/.test(m.origin) && typeof m.on === "boolean") {
      origins = origins.filter((o) => o !== m.origin);
      if (m.on) origins.push(m.origin);
      await chrome.storage.local.set({ cadesOrigins: origins });
      await applyCades();
    }
    reply({ origins, available: await hasCadesScript() });
  })();
  return true;
});

chrome.runtime.onInstalled.addListener(() => { applyCades(); });
