// The agent's own confirmation page: shows what a site asks for and sends
// the user's answer (and PIN) to the agent, never to the site. The prompt's
// cookie (set when kep opened this window) authorises the requests.
const base = location.pathname.replace(/\/$/, "");
const $ = (id) => document.getElementById(id);
const titles = {
  access: "Сайт просит доступ к kep",
  sign: "Подписать документ?",
  login: "Войти на сайт с электронной подписью?",
};
// Input protection: the buttons do nothing for this long after the window
// shows or comes back to the front, so a page that made the user click
// fast ("double-click here") cannot land the click on them.
const ARM_DELAY = 600;
let busy = false;
let armTimer = 0;
let over = false;

function show(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = false;
  return el;
}

function setStatus(text, kind) {
  const el = show("status", text);
  el.className = kind || "";
}

function setButtons(enabled) {
  $("approve").disabled = $("deny").disabled = !enabled;
}

// arm enables the buttons ARM_DELAY after the window was last shown or
// focused; every new showing starts the delay again.
function arm() {
  setButtons(false);
  clearTimeout(armTimer);
  if (busy || over || document.visibilityState !== "visible") return;
  armTimer = setTimeout(() => {
    if (!busy && !over && document.visibilityState === "visible") setButtons(true);
  }, ARM_DELAY);
}
document.addEventListener("visibilitychange", arm);
window.addEventListener("focus", arm);
window.addEventListener("blur", () => { clearTimeout(armTimer); setButtons(false); });

function finish(text, kind) {
  over = true;
  clearTimeout(armTimer);
  $("form").hidden = true;
  setStatus(text, kind);
}

async function load() {
  const r = await fetch(base + "/info", { cache: "no-store" });
  if (!r.ok) {
    show("title", r.status === 403 ? "Это окно открыто не kep" : "Запрос уже завершён");
    finish("");
    return;
  }
  const info = await r.json();
  show("title", titles[info.kind] || "Подтверждение");
  document.title = "kep — " + (titles[info.kind] || "подтверждение");
  show("origin", info.origin);
  if (info.user) show("user", " · пользователь " + info.user);
  if (info.kind === "access" && info.certificates && info.certificates.length) {
    $("choice").hidden = false;
    for (const c of info.certificates) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = c.id;
      box.addEventListener("change", () => { document.querySelector('input[value="chosen"]').checked = true; });
      label.append(box, " " + c.subject + " (до " + c.notAfter + ", " + c.token + ")");
      $("certList").append(label);
    }
  }
  if (info.certificate) {
    $("details").hidden = false;
    show("subject", info.certificate.subject);
    show("issuer", info.certificate.issuer);
    show("notAfter", info.certificate.notAfter);
    show("thumbprint", info.certificate.thumbprint);
    show("token", info.certificate.token);
    if (info.kind === "login") {
      show("descLabel", "Вход");
      show("description", "Подпись одноразового запроса сайта " + info.origin + " (не документа)");
      if (info.challenge) { $("challengeLabel").hidden = false; show("challenge", info.challenge); }
      $("digestLabel").hidden = $("digest").hidden = true;
    } else {
      show("description", info.description || "(сайт не указал)");
      show("digest", (info.digestAlg ? info.digestAlg + ": " : "") + (info.digest || ""));
    }
    if (info.size >= 0) show("size", info.size.toLocaleString("ru-RU") + " байт");
    else $("size").hidden = $("sizeLabel").hidden = true;
    show("approve", info.kind === "login" ? "Войти" : "Подписать");
  }
  if (info.pinLabel) {
    // A CryptoPro container's password: any characters, may be empty.
    $("pinLabel").textContent = info.pinLabel;
    $("pin").inputMode = "text";
  }
  if (info.pinHint) show("pinHint", info.pinHint);
  if (info.needPin) {
    $("pinRow").hidden = false;
    $("pin").focus();
  }
  if (info.pinCache) show("pinCache", info.pinCache);
  if (info.warning) show("warning", info.warning);
  arm();
  watch();
}

// watch notices when the request ends without the user (the page that
// asked was closed, the time ran out) and closes the window.
async function watch() {
  while (!over) {
    await new Promise((res) => setTimeout(res, 1000));
    if (over || busy) continue;
    let r;
    try { r = await fetch(base + "/info", { cache: "no-store" }); } catch (_) { continue; }
    if (r.status === 410) {
      finish("Запрос отменён: сайт закрыл страницу или время ожидания истекло.", "error");
      setTimeout(() => window.close(), 3000);
    }
  }
}

async function answer(approve) {
  if ($("approve").disabled) return; // not armed yet
  busy = true;
  setButtons(false);
  const pin = $("pin").value;
  $("pin").value = "";
  const body = { approve, pin };
  if (!$("choice").hidden) {
    body.scope = document.querySelector('input[name="scope"]:checked').value;
    body.certificates = [...$("certList").querySelectorAll("input:checked")].map((b) => b.value);
  }
  setStatus(approve ? "Выполняется…" : "");
  let out;
  try {
    const r = await fetch(base, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    out = r.ok ? await r.json() : { status: "error", message: "kep отказал: " + (await r.text()) };
  } catch (e) {
    out = { status: "error", message: "Нет связи с kep: " + e };
  }
  busy = false;
  if (out.status === "retry") {
    $("pinRow").hidden = false;
    $("pin").focus();
    setStatus(out.message, "error");
    arm();
    return;
  }
  finish(out.message, out.status === "done" ? "done" : "error");
  // Answered either way: the window has nothing more to do.
  if (out.status === "done" || out.status === "denied") setTimeout(() => window.close(), 1500);
}

$("form").addEventListener("submit", (e) => { e.preventDefault(); answer(true); });
$("deny").addEventListener("click", () => answer(false));
load();
