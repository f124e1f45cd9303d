// kep extension — isolated world. Bridges a port the page opened
// (window.kepExtension.open) to the background, which relays it to
// `kep native-host`. Only JSON-RPC objects go through; the browser tells the
// background which frame and origin the port comes from. It also tells the
// page where this package's kep.js is (window.kepExtension.client).
(() => {
  "use strict";
  window.addEventListener("message", (ev) => {
    if (ev.source !== window || !ev.data || ev.ports.length !== 1) return;
    if (ev.data.kepExtension === "client") {
      // kep.js's URL in this package (web_accessible_resources; the dynamic
      // URL where the browser has one), for cadesplugin.js (page.js client()).
      ev.ports[0].postMessage(chrome.runtime.getURL("kep.js"));
      ev.ports[0].close();
      return;
    }
    if (ev.data.kepExtension !== "open") return;
    const page = ev.ports[0];
    let bg;
    try {
      bg = chrome.runtime.connect({ name: "kep" });
    } catch (e) {
      page.postMessage({ kep: "closed", reason: "EXTENSION_UNAVAILABLE", message: String(e) });
      page.close();
      return;
    }
    let open = true;
    const end = () => { if (open) { open = false; bg.disconnect(); page.close(); } };
    page.onmessage = (m) => {
      const d = m.data;
      if (d && d.kep === "close") return end();
      if (d && typeof d === "object" && d.jsonrpc === "2.0" && !("kep" in d)) bg.postMessage(d);
    };
    bg.onMessage.addListener((m) => page.postMessage(m));
    bg.onDisconnect.addListener(() => {
      if (!open) return;
      open = false;
      page.postMessage({ kep: "closed", reason: "EXTENSION_DISCONNECTED", message: "the extension closed the channel" });
      page.close();
    });
  });
})();
