// kep extension — popup: the per-site cadesplugin switch for the active tab.
"use strict";
(async () => {
  const box = document.getElementById("cades");
  const site = document.getElementById("site");
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  let origin = "";
  try { origin = new URL(tab.url).origin; } catch (_) { /* no page */ }
  if (!/^https:\/\//.test(origin)) {
    site.textContent = "Эта страница не может работать с kep (нужен https).";
    return;
  }
  site.textContent = origin;
  const state = await chrome.runtime.sendMessage({ kep: "cades" });
  box.checked = state.origins.includes(origin);
  box.disabled = !state.available;
  if (!state.available) document.getElementById("note").textContent = "Эта сборка расширения не содержит совместимого с КриптоПро интерфейса.";
  box.addEventListener("change", () => chrome.runtime.sendMessage({ kep: "cades", origin, on: box.checked }));
})();
