// kep extension — runs in the page's own world at document_start, before the
// page's scripts. It defines window.kepExtension and nothing else: open()
// returns a MessagePort to kep (agent/client/kep.js speaks JSON-RPC over it).
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
    }),
  });
})();
