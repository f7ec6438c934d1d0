// The hub's LIFF pages: police scan, venue check-in, footprint. No framework, no CDN.
// In LINE (the LIFF SDK is present and the page runs in the LINE app) the ID token identifies the
// person; elsewhere the venue and footprint pages take a mobile number and an SMS code.
"use strict";

const cfg = JSON.parse(document.getElementById("cfg").textContent);
const $ = (id) => document.getElementById(id);
const show = (id, on = true) => { $(id).hidden = !on; };

function fail(message) {
  $("error").textContent = message;
  show("error");
  $("error").scrollIntoView({ block: "nearest" });
}

// The pages are in zh-TW: the hub words a refusal's `message` in the page's language, not the phone's.
const PAGE_LANGUAGE = "zh-TW";

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
  if (result.status === 0) return "無法連線，請確認網路後再試一次。";
  if (result.status === 429) return "嘗試次數過多，請稍後再試。";
  if (d.error === "code_wrong" || d.error === "code_invalid" || d.error === "code_expired" || d.error === "code_used" || d.error === "code_exhausted") return "驗證碼不正確或已失效。";
  if (result.status === 422 && Array.isArray(d.detail)) {
    // a body the hub could not accept: name the fields (the hub never echoes their values)
    const names = { name: "名稱或姓名", mobile: "手機", admin_mobile: "手機", code: "驗證碼", national_id: "身分證",
      officer_number: "警員編號", address: "地址", contact_name: "聯絡人姓名", contact_phone: "聯絡電話",
      company_name: "公司名稱", ubn: "統一編號", admin_name: "管理者姓名", names: "實聯碼名稱" };
    const fields = [...new Set(d.detail.map((e) => names[(e.loc || [])[1]]).filter((n) => n))];
    return "請確認填寫的資料" + (fields.length ? "：" + fields.join("、") : "") + "。";
  }
  if (result.status === 422) return "請確認輸入的手機號碼與驗證碼。";
  return "發生錯誤，請稍後再試。";
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
    $("send-code").textContent = "驗證碼已傳送";
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
        fail("無法開啟相機掃描，請確認 LINE 的相機權限。");
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
      if (!result.ok) { fail(refusal(result)); return; }
      showVerdict(result.data);
    } finally {
      busy = false;
      $("check-id").disabled = false;
    }
  };
  $("next-id").onclick = () => {
    show("error", false);
    clearVerdict();
    show("scanner");
    $("national-id").focus();
  };
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
    checkedIn(result.data.venue_name + "（" + result.data.org_name + "）");
  }, { venue_code: cfg.venueCode });
  if (!line) { sms(); return; }
  show("one-tap");
  guard("checkin", async () => {
    show("error", false);
    const result = await post("/liff/api/checkin", { id_token: line.getIDToken(), venue_code: cfg.venueCode });
    if (result.ok) { checkedIn(result.data.venue + "（" + result.data.organisation + "）" + result.data.visited_at); return; }
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
    item.textContent = v.at + "　" + v.venue + "（" + v.organisation + "）";
    list.appendChild(item);
  }
  if (!visits.length) { const none = document.createElement("li"); none.textContent = "28 天內沒有登記紀錄。"; list.appendChild(none); }
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
    const taipei = new Intl.DateTimeFormat("zh-TW", { timeZone: "Asia/Taipei", dateStyle: "medium", timeStyle: "short" });
    listVisits(result.data.visits.map((v) => ({ at: taipei.format(new Date(v.visited_at)) + "（台北時間）", venue: v.venue_name, organisation: v.org_name })));
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
    item.textContent = r.at + "　" + r.reader + "：" + r.what + "，" + r.masking + (r.reason ? "（理由：" + r.reason + "）" : "");
    if (proof) {
      const link = document.createElement("button");
      link.textContent = "下載證明";
      link.onclick = () => proof(r.event_id);
      item.appendChild(link);
    }
    list.appendChild(item);
  }
  if (!reads.length) { const none = document.createElement("li"); none.textContent = "28 天內沒有人查閱您的個人資料。"; list.appendChild(none); }
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

// A registration form's answer, one page state for each answer of the hub: bound (註冊成功), held for a
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
    fail(result.ok ? "發生錯誤，請稍後再試。" : refusal(result));
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
    $("send-code").textContent = "驗證碼已傳送";
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
    label.textContent = "實聯碼名稱 " + count;
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
      item.textContent = v.name + "：" + v.code;
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
  const describe = (row) => opts.fields.map((f) => row[f]).join("　") + (opts.more ? opts.more(row) : "");
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
      edit.textContent = "修改";
      edit.onclick = () => {
        editing = row.id;
        $("edit-title").textContent = "修改：" + row.name;
        for (const f of opts.fields) $("edit-" + f).value = "";
        show("edit");
        $("edit-" + opts.fields[0]).focus();
      };
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "danger";
      remove.textContent = "刪除";
      guard(remove, async () => {
        // two taps: the first asks, the second deletes
        if (remove.textContent === "刪除") { remove.textContent = "確定刪除？"; return; }
        await send(opts.api + "/" + row.id + "/delete", {}, "已刪除");
      });
      item.append(text, edit, remove);
      list.appendChild(item);
    }
    if (!data[opts.list].length) {
      const none = document.createElement("li");
      none.textContent = "名單上還沒有人。";
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
    if (await send(opts.api, body, "已加入名單")) for (const f of opts.fields) $(f).value = "";
  });
  guard("save", async () => {
    const body = {};
    for (const f of opts.fields) { const v = $("edit-" + f).value.trim(); if (v) body[f] = v; }
    if (await send(opts.api + "/" + editing + "/update", body, "已儲存修改")) show("edit", false);
  });
  $("cancel").onclick = () => { editing = null; show("edit", false); };
  guard("import", async () => {
    show("error", false);
    show("report", false);
    done("");
    const file = $("file").files[0];
    if (!file) { fail("請選擇 .xlsx 檔案。"); return; }
    const form = new FormData();
    form.append("id_token", token());
    form.append("file", file);
    const response = await fetch(opts.api + "/import", {
      method: "POST", body: form, headers: { "Accept-Language": PAGE_LANGUAGE } });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) { fail(refusal({ ok: false, status: response.status, data })); showReport(data.detail); return; }
    render(data);
    done("已匯入 " + data.imported + " 筆");
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
    more: (e) => "　" + (e.pass ? "已有通行碼" : "尚無通行碼"),
    extra: (send) => {
      show("issue");
      guard("issue", () => send("/liff/api/passes/issue", {}, (d) =>
        (d.issued ? "已申請 " + d.issued + " 張通行碼；" : "") + "名單上每位員工都有有效通行碼"));
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
    $("send-code").textContent = "驗證碼已傳送";
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
  scan: scanPage, venue: venuePage, footprint: footprintPage, register: registerPage, venues: venuesPage,
  employees: employeesPage, roster: rosterPage, station: stationPage, data_reads: dataReadsPage,
})[cfg.page]();
