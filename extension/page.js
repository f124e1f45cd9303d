// kep extension — runs in the page's own world at document_start, before the
// page's scripts. It defines window.kepExtension and nothing else: open()
// returns a MessagePort to kep (agent/client/kep.js speaks JSON-RPC over it);
// client() resolves to the URL of the kep.js this package carries, which
// cadesplugin.js imports when the extension put it in the page (this world
// has no chrome.runtime.getURL, so the isolated world says it, and a
// frozen property cannot hold a URL this script does not know yet; the page's
// own scripts could answer in its place, but they could as well define
// window.cadesplugin themselves: nothing is trusted more than the page).
// The port leads to the extension's isolated world, which alone talks to the
// browser; what the page's origin is, the browser says, not this script.
(() => {
  "use strict";
  if (window.kepExtension) return;
  const post = window.postMessage.bind(window);
  const Channel = MessageChannel;
  Object.defineProperty(window, "kepExtension", {
    value: Object.freeze({
      protocol: 1,
      open() {
        const ch = new Channel();
        post({ kepExtension: "open" }, "*", [ch.port2]);
        return ch.port1;
      },
      client() {
        return new Promise((resolve, reject) => {
          const ch = new Channel();
          ch.port1.onmessage = (m) => {
            ch.port1.close();
            if (typeof m.data === "string") resolve(m.data);
            else reject(new Error("kep extension: no kep.js URL"));
          };
          post({ kepExtension: "client" }, "*", [ch.port2]);
        });
      },
    }),
  });
})();
