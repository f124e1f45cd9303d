// The demo portal's page: connects to the kep agent with kep.js, logs in,
// signs and verifies through the portal's backend.
import { connect, KepError } from "/kep.js";

const $ = (id) => document.getElementById(id);
let kep = null;

function show(id, text) {
  const el = $(id);
  el.textContent = text;
  el.hidden = false;
  return el;
}

function errorText(e) {
  if (e instanceof KepError) return (e.messageRu || e.message) + " [" + e.reason + "]";
  return String(e && e.message ? e.message : e);
}

// withUser shows that the page waits for the user in kep's window while
// fn runs.
async function withUser(fn) {
  $("waiting").hidden = false;
  try {
    return await fn();
  } finally {
    $("waiting").hidden = true;
  }
}

function fmtDate(s) {
  return new Date(s).toLocaleDateString("ru-RU");
}

async function loadCertificates() {
  const certs = await kep.certificates();
  const sel = $("cert-select");
  const previous = sel.value;
  sel.textContent = "";
  for (const c of certs) {
    const q = c.qualified || {};
    const person = [q.surname, q.givenName].filter(Boolean).join(" ") || q.commonName || c.subject;
    const name = q.organization && q.organization !== person ? `${q.organization} (${person})` : person;
    const opt = document.createElement("option");
    opt.value = c.id;
    opt.textContent = `${name} — до ${fmtDate(c.notAfter)} — ${c.keyAlgorithm}`;
    opt.disabled = !c.canSign;
    sel.append(opt);
  }
  if (certs.length === 0) show("agent-error", "На токенах нет сертификатов.");
  // Keep the user's choice; otherwise offer a qualified certificate (with
  // СНИЛС or ИНН) that can sign, as a real portal would.
  const usable = certs.filter((c) => c.canSign);
  const qualified = usable.find((c) => c.qualified && (c.qualified.snils || c.qualified.inn || c.qualified.innLE));
  const pick = certs.find((c) => c.id === previous) || qualified || usable[0];
  if (pick) sel.value = pick.id;
  return certs;
}

async function start() {
  const cfg = await (await fetch("/api/config")).json();
  try {
    kep = await connect({ port: cfg.agentPort });
  } catch (e) {
    $("agent-status").hidden = true;
    show("agent-error", errorText(e)).dataset.reason = e.reason || "";
    return;
  }
  $("agent-status").textContent = `kep ${kep.agent.version} подключён`;
  $("agent-status").className = "status ok";
  try {
    await withUser(() => kep.ensureAccess());
    await loadCertificates();
  } catch (e) {
    show("agent-error", errorText(e)).dataset.reason = e.reason || "";
    return;
  }
  for (const s of ["certs-section", "login-section", "sign-section"]) $(s).hidden = false;
  kep.on("tokens.changed", () => loadCertificates().catch(() => {}));
  kep.on("close", () => show("agent-error", "Соединение с kep прервано: обновите страницу."));
}

async function showDiagnosis() {
  try {
    const d = await kep.diagnose();
    const list = (d && d.findings) || [];
    if (!list.length) return;
    const box = $("diagnosis");
    box.textContent = "";
    for (const f of list) {
      const p = document.createElement("p");
      p.textContent = `${f.code}: ${f.messageRu || f.message || ""} ${f.fixRu ? "— " + f.fixRu : ""}`;
      box.append(p);
    }
    box.hidden = false;
  } catch (_) { /* diagnostics not available */ }
}

$("login-btn").addEventListener("click", async () => {
  $("login-error").hidden = $("identity").hidden = $("diagnosis").hidden = true;
  // The previous person's identity never stays on the page.
  for (const id of ["id-name", "id-snils", "id-inn", "id-org", "id-ogrn", "id-cert"]) $(id).textContent = "";
  try {
    const ch = await (await fetch("/api/login/challenge", { method: "POST" })).json();
    const resp = await withUser(() => kep.login({ certId: $("cert-select").value, challenge: ch }));
    const r = await fetch("/api/login/verify", { method: "POST", body: JSON.stringify(resp) });
    const out = await r.json();
    if (!r.ok) {
      show("login-error", `Вход отклонён: ${out.error} — ${out.message}`).dataset.reason = out.error;
      await showDiagnosis();
      return;
    }
    const id = out.identity;
    show("id-name", [id.surname, id.givenName].filter(Boolean).join(" ") || id.commonName);
    show("id-snils", id.snils || "—");
    show("id-inn", id.inn || id.innLE || "—");
    show("id-org", id.organization || "—");
    show("id-ogrn", id.ogrn || id.ogrnip || "—");
    show("id-cert", id.certificate ? id.certificate.thumbprint || "" : "");
    $("identity").hidden = false;
  } catch (e) {
    show("login-error", errorText(e)).dataset.reason = e.reason || "";
    // The user's own refusal needs no diagnosis.
    if (!["USER_CANCELLED", "PROMPT_TIMEOUT", "CONSENT_DENIED"].includes(e.reason)) await showDiagnosis();
  }
});

$("sign-btn").addEventListener("click", async () => {
  $("sign-error").hidden = $("sign-result").hidden = true;
  const file = $("sign-file").files[0];
  if (!file) {
    show("sign-error", "Выберите файл.");
    return;
  }
  const bar = $("sign-progress");
  try {
    const res = await withUser(() => kep.sign({
      certId: $("cert-select").value, data: file, description: file.name,
      onProgress: (sent, total) => { bar.hidden = false; bar.value = sent / total; },
    }));
    const link = $("sig-download");
    link.href = URL.createObjectURL(new Blob([res.cms], { type: "application/pkcs7-signature" }));
    link.download = file.name + ".sig";
    link.dataset.cms = res.cmsBase64;
    $("sig-alg").textContent = res.hashAlg;
    $("sig-hash").textContent = Array.from(atob(res.hash), (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("").toUpperCase();
    $("sign-result").hidden = false;
  } catch (e) {
    show("sign-error", errorText(e)).dataset.reason = e.reason || "";
  } finally {
    bar.hidden = true;
  }
});

// The last verification's form, for its protocol.
let lastVerify = null;

async function downloadProtocol(format) {
  if (!lastVerify) return;
  const form = new FormData();
  for (const [k, v] of lastVerify.entries()) form.append(k, v);
  form.append("format", format);
  const r = await fetch("/api/verify/protocol", { method: "POST", body: form });
  if (!r.ok) {
    show("verify-error", "Протокол не получен: " + (await r.text()));
    return;
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await r.blob());
  a.download = "протокол-проверки." + format;
  document.body.append(a);
  a.click();
  a.remove();
}
$("protocol-pdf").addEventListener("click", (e) => { e.preventDefault(); downloadProtocol("pdf"); });
$("protocol-html").addEventListener("click", (e) => { e.preventDefault(); downloadProtocol("html"); });

const statusRU = { passed: "пройдена", failed: "НЕ пройдена", warning: "предупреждение", skipped: "не выполнялась" };

$("verify-btn").addEventListener("click", async () => {
  $("verify-error").hidden = $("verify-result").hidden = true;
  const sig = $("verify-sig").files[0];
  if (!sig) {
    show("verify-error", "Выберите файл подписи.");
    return;
  }
  const form = new FormData();
  form.append("signature", sig);
  const doc = $("verify-doc").files[0];
  if (doc) form.append("document", doc);
  try {
    const r = await fetch("/api/verify", { method: "POST", body: form });
    const out = await r.json();
    if (!r.ok) {
      show("verify-error", out.message);
      return;
    }
    lastVerify = form;
    // The verdict and why, in Russian; every check by name and status (the
    // verifier's technical detail, in English, only as a tooltip); the
    // whole protocol is the download.
    const lines = out.summary.ru.split("\n").filter((l) => l && !/^\s*\[/.test(l));
    show("verify-summary", lines.join("\n")).dataset.indication = out.report.indication;
    const ul = $("verify-checks");
    ul.textContent = "";
    for (const s of out.report.signers || []) {
      for (const c of s.checks || []) {
        const li = document.createElement("li");
        li.className = c.status;
        li.textContent = `${c.code}: ${statusRU[c.status] || c.status}`;
        if (c.detail) li.title = c.detail;
        ul.append(li);
      }
    }
    $("verify-result").hidden = false;
  } catch (e) {
    show("verify-error", errorText(e));
  }
});

start();
