// The agent's own confirmation page: shows what a site asks for and sends
// the user's answer (and PIN) to the agent, never to the site.
const base = location.pathname.replace(/\/$/, "");
const $ = (id) => document.getElementById(id);
const titles = {
  access: "Сайт просит доступ к kep",
  sign: "Подписать документ?",
  login: "Войти на сайт с электронной подписью?",
};

function show(id, text) {
  const el = $(id);
  el.textContent = text;
  return el;
}

function setStatus(text, kind) {
  const el = show("status", text);
  el.className = kind || "";
}

async function load() {
  const r = await fetch(base + "/info", { cache: "no-store" });
  if (!r.ok) {
    show("title", "Запрос уже завершён");
    $("form").hidden = true;
    return;
  }
  const info = await r.json();
  show("title", titles[info.kind] || "Подтверждение");
  document.title = "kep — " + (titles[info.kind] || "подтверждение");
  show("origin", info.origin);
  if (info.certificate) {
    $("details").hidden = false;
    show("subject", info.certificate.subject);
    show("issuer", info.certificate.issuer);
    show("notAfter", info.certificate.notAfter);
    show("thumbprint", info.certificate.thumbprint);
    show("token", info.certificate.token);
    if (info.kind === "login") {
      show("descLabel", "Вход");
      show("description", "Подпись одноразового запроса сайта " + info.origin);
    } else {
      show("description", info.description || "(сайт не указал)");
    }
    if (info.size >= 0) show("size", info.size.toLocaleString("ru-RU") + " байт");
    else { $("size").hidden = true; $("sizeLabel").hidden = true; }
    show("digest", (info.digestAlg ? info.digestAlg + ": " : "") + (info.digest || ""));
    show("approve", info.kind === "login" ? "Войти" : "Подписать");
  }
  if (info.needPin) {
    $("pinRow").hidden = false;
    $("pin").focus();
  }
  if (info.warning) show("warning", info.warning).hidden = false;
}

async function answer(approve) {
  const pin = $("pin").value;
  $("pin").value = "";
  $("approve").disabled = $("deny").disabled = true;
  setStatus(approve ? "Выполняется…" : "");
  let out;
  try {
    const r = await fetch(base, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ approve, pin }),
    });
    out = await r.json();
  } catch (e) {
    out = { status: "error", message: "Нет связи с kep: " + e };
  }
  if (out.status === "retry") {
    $("approve").disabled = $("deny").disabled = false;
    $("pinRow").hidden = false;
    $("pin").focus();
    setStatus(out.message, "error");
    return;
  }
  $("form").hidden = true;
  setStatus(out.message, out.status === "done" ? "done" : "error");
  if (out.status === "done") setTimeout(() => window.close(), 1500);
}

$("form").addEventListener("submit", (e) => { e.preventDefault(); answer(true); });
$("deny").addEventListener("click", () => answer(false));
load();
