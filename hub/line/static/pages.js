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
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  return { ok: response.ok, status: response.status, data };
}

function refusal(result) {
  const d = result.data || {};
  if (d.message) return d.message;
  if (result.status === 429) return "嘗試次數過多，請稍後再試。";
  if (d.error === "code_wrong" || d.error === "code_invalid" || d.error === "code_expired" || d.error === "code_used" || d.error === "code_exhausted") return "驗證碼不正確或已失效。";
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

function smsFlow(purpose, submit) {
  show("sms");
  $("send-code").onclick = async () => {
    show("error", false);
    const result = await post("/api/v1/otp/request", { mobile: $("mobile").value.trim(), purpose });
    if (!result.ok) { fail(refusal(result)); return; }
    $("send-code").textContent = "驗證碼已傳送";
    $("code").focus();
  };
  $("submit").onclick = async () => {
    show("error", false);
    await submit($("mobile").value.trim(), $("code").value.trim());
  };
}

// --- police scan ---
async function scanPage() {
  const line = await lineSession();
  if (!line) { show("need-line"); return; }
  show("scanner");
  const scan = async () => {
    show("error", false);
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
    const v = result.data;
    show("scanner", false);
    $("verdict-word").textContent = v.verdict;
    $("verdict-word").className = "verdict " + (v.ok ? "ok" : "no");
    $("verdict-reason").textContent = v.reason;
    if (v.holder) {
      $("holder-name").textContent = v.holder;
      $("holder-id").textContent = v.national_id;
      $("holder-org").textContent = v.organisation;
      $("holder-expires").textContent = v.expires;
      show("holder");
    } else {
      show("holder", false);
    }
    $("reminder").textContent = v.reminder;
    show("verdict");
  };
  $("scan").onclick = scan;
  $("again").onclick = () => { show("verdict", false); show("scanner"); scan(); };
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
  });
  if (!line) { sms(); return; }
  show("one-tap");
  $("checkin").onclick = async () => {
    show("error", false);
    const result = await post("/liff/api/checkin", { id_token: line.getIDToken(), venue_code: cfg.venueCode });
    if (result.ok) { checkedIn(result.data.venue + "（" + result.data.organisation + "）" + result.data.visited_at); return; }
    fail(refusal(result));
    if (result.data && result.data.error === "not_bound") { show("one-tap", false); sms(); }
  };
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
    const result = await post("/api/v1/footprint", { mobile, code });
    if (!result.ok) { fail(refusal(result)); return; }
    const taipei = new Intl.DateTimeFormat("zh-TW", { timeZone: "Asia/Taipei", dateStyle: "medium", timeStyle: "short" });
    listVisits(result.data.map((v) => ({ at: taipei.format(new Date(v.visited_at)) + "（台北時間）", venue: v.venue_name, organisation: v.org_name })));
  });
}


// --- forms (in LINE only: the ID token says who is asking) ---
async function formSession() {
  const line = await lineSession();
  if (!line) { show("need-line"); return null; }
  return line;
}

async function registerPage() {
  const line = await formSession();
  if (!line) return;
  show("form");
  const value = (id) => $(id).value.trim();
  $("send-code").onclick = async () => {
    show("error", false);
    const result = await post("/api/v1/otp/request", { mobile: value("admin_mobile"), purpose: "enterprise_registration" });
    if (!result.ok) { fail(refusal(result)); return; }
    $("send-code").textContent = "驗證碼已傳送";
  };
  $("submit").onclick = async () => {
    show("error", false);
    const result = await post("/liff/api/enterprise/register", {
      id_token: line.getIDToken(), company_name: value("company_name"), ubn: value("ubn"),
      admin_name: value("admin_name"), admin_mobile: value("admin_mobile"), code: value("code"),
    });
    if (!result.ok) { fail(refusal(result)); return; }
    show("form", false);
    $("done-detail").textContent = result.data.organisation;
    show("done");
  };
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
    input.maxLength = 8;
    $("names").append(label, input);
    input.focus();
  };
  $("submit").onclick = async () => {
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
  };
}

function showWhitelist(data) {
  const list = $("employees");
  list.textContent = "";
  for (const e of data.employees) {
    const item = document.createElement("li");
    item.textContent = e.name + "　" + e.mobile + "　" + (e.pass ? "已有通行碼" : "尚無通行碼");
    list.appendChild(item);
  }
}

async function employeesPage() {
  const line = await formSession();
  if (!line) return;
  show("manage");
  const refresh = async () => {
    const result = await post("/liff/api/employees/list", { id_token: line.getIDToken() });
    if (!result.ok) { fail(refusal(result)); return; }
    showWhitelist(result.data);
  };
  $("add").onclick = async () => {
    show("error", false);
    const result = await post("/liff/api/employees", {
      id_token: line.getIDToken(), name: $("name").value.trim(), mobile: $("mobile").value.trim(),
      national_id: $("national_id").value.trim(),
    });
    if (!result.ok) { fail(refusal(result)); return; }
    for (const id of ["name", "mobile", "national_id"]) $(id).value = "";
    $("status").textContent = "已加入名單";
    showWhitelist(result.data);
  };
  $("import").onclick = async () => {
    show("error", false);
    const file = $("file").files[0];
    if (!file) { fail("請選擇 .xlsx 檔案。"); return; }
    const form = new FormData();
    form.append("id_token", line.getIDToken());
    form.append("file", file);
    const response = await fetch("/liff/api/employees/import", { method: "POST", body: form });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (!response.ok) { fail(refusal({ ok: false, status: response.status, data })); return; }
    $("status").textContent = "已匯入 " + data.imported + " 位員工";
    showWhitelist(data);
  };
  $("issue").onclick = async () => {
    show("error", false);
    const result = await post("/liff/api/passes/issue", { id_token: line.getIDToken() });
    if (!result.ok) { fail(refusal(result)); return; }
    $("status").textContent = "已申請 " + result.data.issued + " 張通行碼";
    showWhitelist(result.data);
  };
  await refresh();
  document.body.dataset.ready = "1";  // the whitelist is shown: the page is ready for input
}

({ scan: scanPage, venue: venuePage, footprint: footprintPage, register: registerPage, venues: venuesPage, employees: employeesPage })[cfg.page]();
