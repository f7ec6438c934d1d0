// The hub's LIFF pages: police scan, venue check-in, footprint. No framework, no CDN.
// In LINE (the LIFF SDK is present and the page runs in the LINE app) the ID token identifies the
// person; elsewhere the venue and footprint pages take a mobile number and an SMS code.
// Every text this script shows is a message key of the hub's catalogue, each call of `t` naming one literal key:
// the hub renders those keys' texts, in the page's language, into the page's config (hub/line/pages.py).
"use strict";

const cfg = JSON.parse(document.getElementById("cfg").textContent);

// The text of `key` in the page's language, its `{name}` placeholders filled from `values`.
function t(key, values = {}) {
  const text = (cfg.words || {})[key] || key;
  return text.replace(/\{([a-z_]+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}
const $ = (id) => document.getElementById(id);
const show = (id, on = true) => { $(id).hidden = !on; };

function fail(message) {
  $("error").textContent = message;
  show("error");
  $("error").scrollIntoView({ block: "nearest" });
}

// The hub words a refusal's `message` in the page's language (which the hub chose when it sent the page).
const PAGE_LANGUAGE = cfg.lang || "zh-TW";

async function post(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": PAGE_LANGUAGE },
      body: JSON.stringify(body),
    });
  } catch (e) {
    return { ok: false, status: 0, data: {} };  // no answer at all (the network): said as such
  }
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  return { ok: response.ok, status: response.status, data };
}

// A button that changes something acts once per tap: it is disabled while its request is in flight,
// so a double tap sends one request (and the hub answers a repeated request as it answered the first).
function guard(target, action) {
  const button = typeof target === "string" ? $(target) : target;
  button.onclick = async (event) => {
    if (button.disabled) return;
    button.disabled = true;
    try { await action(event); } finally { button.disabled = false; }
  };
}

function refusal(result) {
  const d = result.data || {};
  if (d.message) return d.message;
  if (result.status === 0) return t("liff.js.no_network");
  if (result.status === 429) return t("liff.js.too_many");
  if (d.error === "code_wrong" || d.error === "code_invalid" || d.error === "code_expired" || d.error === "code_used" || d.error === "code_exhausted") return t("liff.js.code_wrong");
  // The hub words every body it cannot accept itself, field by field (`message`, above); an answer
  // without one did not come from the hub's refusal handlers.
  if (result.status === 422 && Array.isArray(d.detail)) return t("liff.js.check_fields");
  if (result.status === 422) return t("liff.js.check_mobile_code");
  return t("liff.js.failed");
}

// LIFF: ready and inside LINE, or null (not configured, SDK absent, or an ordinary browser).
async function lineSession() {
  if (!cfg.liffId || !window.liff) return null;
  try {
    await liff.init({ liffId: cfg.liffId });
  } catch (e) {
    return null;
  }
  if (!liff.isInClient()) return null;
  if (!liff.isLoggedIn()) { liff.login({ redirectUri: location.href }); return null; }
  return liff;
}

// `extra`: more fields of the code request (a check-in code names its venue).
function smsFlow(purpose, submit, extra = {}) {
  show("sms");
  guard("send-code", async () => {
    show("error", false);
    const result = await post("/api/v1/otp/request", { mobile: $("mobile").value.trim(), purpose, ...extra });
    if (!result.ok) { fail(refusal(result)); return; }
    $("send-code").textContent = t("liff.js.code_sent");
    $("code").focus();
  });
  guard("submit", async () => {
    show("error", false);
    await submit($("mobile").value.trim(), $("code").value.trim());
  });
}

// --- police scan ---
const HOLDER_FIELDS = { "holder-name": "holder", "holder-id": "national_id", "holder-org": "organisation", "holder-expires": "expires" };

// One verdict on screen at a time: every field is emptied and hidden before the new answer fills it, so
// nothing of an earlier scan (another person's name, ID, enterprise) can stay under this verdict.
function clearVerdict() {
  show("verdict", false);
  show("holder", false);
  for (const id of ["verdict-word", "verdict-reason", "reminder", ...Object.keys(HOLDER_FIELDS)]) $(id).textContent = "";
  $("verdict-word").className = "verdict";
}

function showVerdict(v) {
  clearVerdict();
  $("verdict-word").textContent = v.verdict;
  $("verdict-word").className = "verdict " + (v.ok ? "ok" : "no");
  $("verdict-reason").textContent = v.reason;
  if (v.holder) {
    for (const [id, key] of Object.entries(HOLDER_FIELDS)) $(id).textContent = v[key] || "";
    show("holder");
  }
  $("reminder").textContent = v.reminder;
  show("scanner", false);
  show("verdict");
}

async function scanPage() {
  const line = await lineSession();
  if (!line) { show("need-line"); return; }
  show("scanner");
  let busy = false;
  const scan = async () => {
    if (busy) return;  // one scan at a time: a second tap must not race the first's answer
    busy = true;
    show("error", false);
    clearVerdict();
    show("scanner");
    try {
      let value;
      try {
        value = (await line.scanCodeV2()).value;
      } catch (e) {
        fail(t("liff.js.camera"));
        return;
      }
      if (!value) return;
      const result = await post("/liff/api/police/verdict", { id_token: line.getIDToken(), text: value });
      if (!result.ok) { fail(refusal(result)); return; }
      showVerdict(result.data);
    } finally {
      busy = false;
    }
  };
  $("scan").onclick = scan;
  $("again").onclick = scan;
  // The ID-card check, for a person with no pass at hand: the number is sent once and cleared from the
  // field as soon as it is sent, so the next person never sees it; the answer shows it masked.
  $("id-check").onsubmit = async (event) => {
    event.preventDefault();
    const typed = $("national-id").value.trim();
    if (busy || !typed) return;
    busy = true;
    $("check-id").disabled = true;
    show("error", false);
    clearVerdict();
    try {
      const result = await post("/liff/api/police/id-check", { id_token: line.getIDToken(), national_id: typed });
      $("national-id").value = "";
      forgetPhoto();
      if (!result.ok) { fail(refusal(result)); return; }
      showVerdict(result.data);
    } finally {
      busy = false;
      $("check-id").disabled = false;
    }
  };
  // A photo of the card, to read the number from on this phone: read into the page (a data: URL, which
  // the page's CSP allows) and never sent; gone once the number is sent or the next person is checked.
  const forgetPhoto = () => {
    $("id-photo").value = "";
    $("id-photo-view").removeAttribute("src");
    show("id-photo-view", false);
  };
  $("id-photo").onchange = () => {
    const file = $("id-photo").files[0];
    if (!file) { forgetPhoto(); return; }
    const reader = new FileReader();
    reader.onload = () => { $("id-photo-view").src = reader.result; show("id-photo-view"); };
    reader.readAsDataURL(file);
  };
  $("next-id").onclick = () => {
    forgetPhoto();
    show("error", false);
    clearVerdict();
    show("scanner");
    $("national-id").focus();
  };
}

// --- an employee's pass, shown to the officer's scanner ---
// Brightness: no web API sets the screen's brightness, so the page says so in words. What the platform
// does allow is keeping the screen on (the Screen Wake Lock API): asked for while the pass is shown,
// and again when the page comes back to the front (the lock is released whenever it is hidden).
async function keepScreenOn() {
  if (!("wakeLock" in navigator)) {
    $("wake").textContent = t("liff.js.wake_unsupported");
    return;
  }
  try {
    await navigator.wakeLock.request("screen");
    $("wake").textContent = t("liff.js.wake_on");
  } catch (e) {
    $("wake").textContent = t("liff.js.wake_refused");
  }
}

async function passPage() {
  const line = await lineSession();
  if (!line) { show("need-line"); return; }
  const result = await post("/liff/api/pass", { id_token: line.getIDToken() });
  if (!result.ok) { fail(refusal(result)); return; }
  const p = result.data;
  $("pass-qr").src = p.qr;
  for (const [id, key] of Object.entries(HOLDER_FIELDS)) $(id).textContent = p[key] || "";
  show("shown");
  await keepScreenOn();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") keepScreenOn();
  });
}

// --- venue check-in ---
function checkedIn(detail) {
  show("one-tap", false);
  show("sms", false);
  $("done-detail").textContent = detail;
  show("done");
}

async function venuePage() {
  if (!cfg.venueCode) return;
  const line = await lineSession();
  const sms = () => smsFlow("visit", async (mobile, code) => {
    const result = await post("/api/v1/visits", { venue_code: cfg.venueCode, mobile, code });
    if (!result.ok) { fail(refusal(result)); return; }
    checkedIn(t("liff.js.venue_of", { venue: result.data.venue_name, organisation: result.data.org_name }));
  }, { venue_code: cfg.venueCode });
  if (!line) { sms(); return; }
  show("one-tap");
  guard("checkin", async () => {
    show("error", false);
    const result = await post("/liff/api/checkin", { id_token: line.getIDToken(), venue_code: cfg.venueCode });
    if (result.ok) { checkedIn(t("liff.js.checked_in", { venue: result.data.venue, organisation: result.data.organisation, at: result.data.visited_at })); return; }
    fail(refusal(result));
    if (result.data && result.data.error === "not_bound") { show("one-tap", false); sms(); }
  });
}

// --- footprint ---
function listVisits(visits) {
  show("sms", false);
  const list = $("visits");
  list.textContent = "";
  for (const v of visits) {
    const item = document.createElement("li");
    item.textContent = t("liff.js.visit", v);
    list.appendChild(item);
  }
  if (!visits.length) { const none = document.createElement("li"); none.textContent = t("liff.js.no_visits"); list.appendChild(none); }
  show("list");
}

async function footprintPage() {
  const line = await lineSession();
  if (line) {
    const result = await post("/liff/api/footprint", { id_token: line.getIDToken() });
    if (result.ok) { listVisits(result.data.visits); return; }
  }
  smsFlow("footprint", async (mobile, code) => {
    const result = await post("/api/v1/footprint/data-reads", { mobile, code });
    if (!result.ok) { fail(refusal(result)); return; }
    const taipei = new Intl.DateTimeFormat(PAGE_LANGUAGE, { timeZone: "Asia/Taipei", dateStyle: "medium", timeStyle: "short" });
    listVisits(result.data.visits.map((v) => ({ at: t("liff.at_taipei", { at: taipei.format(new Date(v.visited_at)) }), venue: v.venue_name, organisation: v.org_name })));
    listReads(result.data.reads, null);
    show("reads-section");
  });
}

// --- who read my data (hub/line/data_reads.py): in LINE by the ID token; on the footprint page after the SMS code ---
function listReads(reads, proof) {
  const list = $("reads");
  list.textContent = "";
  for (const r of reads) {
    const item = document.createElement("li");
    item.textContent = t("liff.js.read", r) + (r.reason ? t("liff.js.read_reason", r) : "");
    if (proof) {
      const link = document.createElement("button");
      link.textContent = t("liff.js.download_proof");
      link.onclick = () => proof(r.event_id);
      item.appendChild(link);
    }
    list.appendChild(item);
  }
  if (!reads.length) { const none = document.createElement("li"); none.textContent = t("data_reads.none"); list.appendChild(none); }
  show("list");
}

function saveJson(name, data) {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url; a.download = name; a.click();
  URL.revokeObjectURL(url);
}

async function dataReadsPage() {
  const line = await formSession();
  if (!line) return;
  const result = await post("/liff/api/data-reads", { id_token: line.getIDToken() });
  if (!result.ok) { fail(refusal(result)); return; }
  listReads(result.data.reads, async (eventId) => {
    const proof = await post("/liff/api/data-reads/proof", { id_token: line.getIDToken(), event_id: eventId });
    if (!proof.ok) { fail(refusal(proof)); return; }
    saveJson("read-" + eventId + "-proof.json", proof.data);
  });
}

// --- forms (in LINE only: the ID token says who is asking) ---
async function formSession() {
  const line = await lineSession();
  if (!line) { show("need-line"); return null; }
  return line;
}

// A registration form's answer, one page state for each answer of the hub: bound (liff.registered), held for a
// hub admin's review (nothing registered yet: said so, never 註冊成功), or refused with its reason (the
// form stays, to correct). Any other answer is not taken for a success.
function registered(result, name) {
  const state = (result.data || {}).state;
  if (result.ok && state === "bound") {
    show("form", false);
    $("done-detail").textContent = name;
    show("done");
  } else if (result.ok && state === "held_for_review") {
    show("form", false);
    $("review-detail").textContent = result.data.message;
    show("review");
  } else {
    fail(result.ok ? t("liff.js.failed") : refusal(result));
  }
}

async function registerPage() {
  const line = await formSession();
  if (!line) return;
  show("form");
  const value = (id) => $(id).value.trim();
  guard("send-code", async () => {
    show("error", false);
    // the hub checks the whole form (a 統一編號's check digit too) before it sends a code
    const result = await post("/liff/api/enterprise/register/code", {
      id_token: line.getIDToken(), company_name: value("company_name"), ubn: value("ubn"),
      admin_name: value("admin_name"), admin_mobile: value("admin_mobile"),
    });
    if (!result.ok) { fail(refusal(result)); return; }
    $("send-code").textContent = t("liff.js.code_sent");
  });
  guard("submit", async () => {
    show("error", false);
    const result = await post("/liff/api/enterprise/register", {
      id_token: line.getIDToken(), company_name: value("company_name"), ubn: value("ubn"),
      admin_name: value("admin_name"), admin_mobile: value("admin_mobile"), code: value("code"),
    });
    registered(result, result.data.organisation);
  });
}

async function venuesPage() {
  const line = await formSession();
  if (!line) return;
  show("form");
  let count = 1;
  $("more").onclick = () => {
    count += 1;
    const label = document.createElement("label");
    label.htmlFor = "name-" + count;
    label.textContent = t("liff.venues.name_n", { n: count });
    const input = document.createElement("input");
    input.id = "name-" + count;
    input.className = "venue-name-input";
    $("names").append(label, input);
    input.focus();
  };
  guard("submit", async () => {
    show("error", false);
    const names = [...document.querySelectorAll(".venue-name-input")].map((i) => i.value.trim()).filter((n) => n);
    const result = await post("/liff/api/venues", {
      id_token: line.getIDToken(), address: $("address").value.trim(), contact_name: $("contact_name").value.trim(),
      contact_phone: $("contact_phone").value.trim(), names,
    });
    if (!result.ok) { fail(refusal(result)); return; }
    show("form", false);
    for (const v of result.data.venues) {
      const item = document.createElement("li");
      item.textContent = t("liff.js.venue_code", v);
      $("created").appendChild(item);
    }
    show("done");
  });
}

// --- the whitelists (employees, duty roster): one editor over the hub's /liff/api/{kind} endpoints ---
// The kind's fields, their labels, its API and list come from the hub (cfg: hub/line/liff_whitelists.py).

function showReport(detail) {
  const table = $("report");
  const body = table.querySelector("tbody");
  body.textContent = "";
  for (const e of (detail && detail.errors) || []) {
    const row = document.createElement("tr");
    for (const text of [String(e.row), cfg.labels[e.field] || e.field || "", e.error]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    body.appendChild(row);
  }
  show("report", body.children.length > 0);
}

async function whitelistPage(opts) {
  opts = Object.assign({ api: cfg.api, list: cfg.list, fields: cfg.fields }, opts);
  const between = t("liff.js.whitelist.between");
  const describe = (row) => opts.fields.map((f) => row[f]).concat(opts.more ? [opts.more(row)] : []).join(between);
  const line = await formSession();
  if (!line) return;
  show("manage");
  let editing = null;
  const token = () => line.getIDToken();
  const done = (message) => { $("status").textContent = message; };
  const render = (data) => {
    const list = $(opts.list);
    list.textContent = "";
    for (const row of data[opts.list]) {
      const item = document.createElement("li");
      item.dataset.id = row.id;
      const text = document.createElement("span");
      text.className = "row-text";
      text.textContent = describe(row);
      const edit = document.createElement("button");
      edit.type = "button";
      edit.textContent = t("liff.js.whitelist.edit");
      edit.onclick = () => {
        editing = row.id;
        $("edit-title").textContent = t("liff.js.whitelist.edit_who", { name: row.name });
        for (const f of opts.fields) $("edit-" + f).value = "";
        show("edit");
        $("edit-" + opts.fields[0]).focus();
      };
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "danger";
      const removeText = t("liff.js.whitelist.delete");
      remove.textContent = removeText;
      guard(remove, async () => {
        // two taps: the first asks, the second deletes
        if (remove.textContent === removeText) { remove.textContent = t("liff.js.whitelist.delete_sure"); return; }
        await send(opts.api + "/" + row.id + "/delete", {}, t("liff.js.whitelist.deleted"));
      });
      item.append(text, edit, remove);
      list.appendChild(item);
    }
    if (!data[opts.list].length) {
      const none = document.createElement("li");
      none.textContent = t("liff.js.whitelist.empty");
      list.appendChild(none);
    }
  };
  // message: the status line after success, a string or a function of the answer
  const send = async (url, body, message) => {
    show("error", false);
    done("");
    const result = await post(url, Object.assign({ id_token: token() }, body));
    if (!result.ok) { fail(refusal(result)); return false; }
    render(result.data);
    done(typeof message === "function" ? message(result.data) : message);
    return true;
  };

  guard("add", async () => {
    const body = {};
    for (const f of opts.fields) body[f] = $(f).value.trim();
    if (await send(opts.api, body, t("liff.js.whitelist.added"))) for (const f of opts.fields) $(f).value = "";
  });
  guard("save", async () => {
    const body = {};
    for (const f of opts.fields) { const v = $("edit-" + f).value.trim(); if (v) body[f] = v; }
    if (await send(opts.api + "/" + editing + "/update", body, t("liff.js.whitelist.saved"))) show("edit", false);
  });
  $("cancel").onclick = () => { editing = null; show("edit", false); };
  guard("import", async () => {
    show("error", false);
    show("report", false);
    done("");
    const file = $("file").files[0];
    if (!file) { fail(t("liff.js.whitelist.choose_file")); return; }
    const form = new FormData();
    form.append("id_token", token());
    form.append("file", file);
    const response = await fetch(opts.api + "/import", {
      method: "POST", body: form, headers: { "Accept-Language": PAGE_LANGUAGE } });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) { fail(refusal({ ok: false, status: response.status, data })); showReport(data.detail); return; }
    render(data);
    done(t("liff.js.whitelist.imported", { n: data.imported }));
  });
  $("template").onclick = (event) => {
    // in the LINE app a download opens in the phone's browser (the sheet holds no one's data)
    if (line.isInClient() && line.openWindow) { event.preventDefault(); line.openWindow({ url: $("template").href, external: true }); }
  };
  if (opts.extra) opts.extra(send);
  const first = await post(opts.api + "/list", { id_token: token() });
  if (!first.ok) { fail(refusal(first)); return; }
  render(first.data);
  document.body.dataset.ready = "1";  // the list is shown: the page is ready for input
}

function employeesPage() {
  return whitelistPage({
    more: (e) => (e.pass ? t("liff.js.whitelist.has_pass") : t("liff.js.whitelist.no_pass")),
    extra: (send) => {
      show("issue");
      guard("issue", () => send("/liff/api/passes/issue", {}, (d) =>
        (d.issued ? t("liff.js.whitelist.issued", { n: d.issued }) : "") + t("liff.js.whitelist.all_have_passes")));
    },
  });
}

function rosterPage() {
  return whitelistPage({});
}

async function stationPage() {
  const line = await formSession();
  if (!line) return;
  show("form");
  const value = (id) => $(id).value.trim();
  guard("send-code", async () => {
    show("error", false);
    const result = await post("/liff/api/police/register/code", { id_token: line.getIDToken(), mobile: value("admin_mobile") });
    if (!result.ok) { fail(refusal(result)); return; }
    $("send-code").textContent = t("liff.js.code_sent");
  });
  guard("submit", async () => {
    show("error", false);
    const result = await post("/liff/api/police/register", {
      id_token: line.getIDToken(), name: value("name"), address: value("address"),
      contact_name: value("contact_name"), contact_phone: value("contact_phone"),
      admin_mobile: value("admin_mobile"), code: value("code"),
    });
    registered(result, result.data.station);
  });
}

({
  scan: scanPage, pass: passPage, venue: venuePage, footprint: footprintPage, register: registerPage, venues: venuesPage,
  employees: employeesPage, roster: rosterPage, station: stationPage, data_reads: dataReadsPage,
})[cfg.page]();
