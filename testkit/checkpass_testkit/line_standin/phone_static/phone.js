// The LINE phone (testkit, phone.py): one LINE user's side of an official account. What the account
// sent is what the stand-in accepted from the hub (polled); what the user does goes to the hub as
// signed webhook events, through the stand-in.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 700;
const SIZES = { xxs: 11, xs: 12, sm: 13, md: 15, lg: 18, xl: 21, xxl: 26, "3xl": 30, "4xl": 36, "5xl": 44 };
const SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };

let setup = { accounts: [], people: [] };
let state = { channel: null, person: null, user: null };
let shown = "";  // the last chat answer drawn, so an unchanged poll redraws nothing
let menuShown = "";

async function api(path, body) {
  const response = await fetch("/phone/api/" + path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  return response.json();
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function freshUser() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "U" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function localMobile(e164) { return e164 && e164.startsWith("+886") ? "0" + e164.slice(4) : e164; }

// --- choosing who the phone is ---

function fillPeople() {
  const select = $("person");
  select.textContent = "";
  for (const p of setup.people.filter((p) => !p.channel || p.channel === state.channel)) {
    const option = el("option", "", `${p.name}（${p.role}）`);
    option.value = p.key;
    select.append(option);
  }
}

async function choose() {
  state.channel = $("account").value;
  const key = $("person").value;
  state.person = setup.people.find((p) => p.key === key);
  state.user = state.person.user_id || freshUser();
  const account = setup.accounts.find((a) => a.channel === state.channel);
  $("room-name").textContent = account ? account.name : state.channel;
  $("hint").hidden = !state.person.mobile;
  $("hint").textContent = state.person.mobile
    ? `綁定：點選單「註冊 登入」，輸入手機 ${localMobile(state.person.mobile)}，再輸入簡訊中的驗證碼。` : "";
  closeLiff();
  shown = ""; menuShown = "";
  $("chat").textContent = "";
  await api("open", { channel: state.channel, user: state.user, name: state.person.name });
  await refresh();
}

// --- what the user does ---

async function send(kind, fields) {
  const chosen = { ...state };
  const answer = await api("send", { channel: chosen.channel, user: chosen.user, kind, ...fields });
  // LINE would retry a webhook the hub refused; the phone says so instead of showing nothing.
  $("notice").hidden = answer.webhook === 200;
  $("notice").textContent = answer.webhook === 200 ? "" : `webhook 未送達（hub 回應 ${answer.webhook || "無"}）`;
  await refresh();
}

function act(action) {
  if (!action) return;
  if (action.type === "postback") send("postback", { data: action.data, displayText: action.displayText || "" });
  else if (action.type === "message") send("text", { text: action.text });
  else if (action.type === "uri") openUri(action.uri);
}

async function openUri(uri) {
  if (uri.startsWith("https://liff.line.me/")) {
    const answer = await api("liff", { channel: state.channel, user: state.user, url: uri });
    if (!answer.url) return;
    $("liff-frame").src = answer.url;
    $("liff-title").textContent = uri.replace("https://liff.line.me/", "LIFF ");
    $("liff").hidden = false;
  } else {
    window.open(uri, "_blank", "noopener");
  }
}

function closeLiff() {
  $("liff").hidden = true;
  $("liff-frame").src = "about:blank";
}

// --- what the account sent ---

function linkify(text) {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s]+/g)) {
    out.append(text.slice(last, match.index));
    const link = el("a", "", match[0]);
    link.href = "#";
    link.onclick = (event) => { event.preventDefault(); openUri(match[0]); };
    out.append(link);
    last = match.index + match[0].length;
  }
  out.append(text.slice(last));
  return out;
}

function renderMessage(message) {
  switch (message.type) {
    case "text": { const b = el("div", "bubble"); b.append(linkify(message.text)); return b; }
    case "image": {
      const img = el("img", "image-message");
      img.src = message.previewImageUrl || message.originalContentUrl;
      img.alt = "圖片";
      img.onclick = () => window.open(message.originalContentUrl, "_blank", "noopener");
      return img;
    }
    case "flex": return flex(message.contents, null);
    case "template": return template(message);
    case "sticker": return el("div", "bubble", "［貼圖］");
    default: return el("div", "bubble", `［${message.type}］${message.altText || ""}`);
  }
}

function template(message) {
  const t = message.template || {};
  const b = el("div", "fx-bubble");
  const section = el("div", "fx-section fx-box fx-vertical");
  section.style.gap = "8px";
  if (t.title) section.append(el("div", "fx-text wrap", t.title));
  section.append(el("div", "fx-text wrap", t.text || message.altText || ""));
  for (const action of t.actions || []) section.append(button({ action, style: "link" }));
  b.append(section);
  return b;
}

function button(node) {
  const b = el("button", `fx-button fx-${node.style || "link"}`, (node.action && node.action.label) || "");
  b.type = "button";
  if (node.color) { if (node.style === "primary" || node.style === "secondary") b.style.background = node.color; else b.style.color = node.color; }
  if (node.height === "sm") b.style.padding = "6px";
  b.onclick = () => act(node.action);
  return b;
}

function px(value, table) {
  if (value === undefined) return null;
  if (value in table) return table[value] + "px";
  return value;
}

// A Flex component; `parent`: the layout of the box it sits in.
function flex(node, parent) {
  let out;
  switch (node.type) {
    case "carousel":
      out = el("div", "fx-carousel");
      for (const bubble of node.contents || []) out.append(flex(bubble, null));
      return out;
    case "bubble": {
      out = el("div", "fx-bubble");
      for (const part of ["header", "hero", "body", "footer"]) {
        if (!node[part]) continue;
        const section = el("div", "fx-section" + (part === "hero" ? " fx-hero" : ""));
        const style = (node.styles || {})[part] || {};
        if (style.backgroundColor) section.style.background = style.backgroundColor;
        section.append(flex(node[part], "vertical"));
        out.append(section);
      }
      return out;
    }
    case "box": {
      out = el("div", `fx-box fx-${node.layout}`);
      const gap = px(node.spacing, SPACING);
      if (gap) out.style.gap = gap;
      for (const side of ["", "Top", "Bottom", "Start", "End"]) {
        const value = px(node["padding" + (side || "All")], SPACING);
        if (value) out.style["padding" + (side ? side.replace("Start", "Left").replace("End", "Right") : "")] = value;
      }
      if (node.backgroundColor) out.style.background = node.backgroundColor;
      if (node.cornerRadius) out.style.borderRadius = px(node.cornerRadius, SPACING);
      if (node.justifyContent) out.style.justifyContent = node.justifyContent;
      if (node.alignItems) out.style.alignItems = node.alignItems;
      for (const child of node.contents || []) out.append(flex(child, node.layout));
      if (node.action) { out.style.cursor = "pointer"; out.onclick = () => act(node.action); }
      break;
    }
    case "text": {
      out = el("div", "fx-text" + (node.wrap ? " wrap" : ""));
      if (node.contents && node.contents.length) {
        for (const span of node.contents) {
          const s = el("span", "", span.text || "");
          if (span.weight === "bold") s.style.fontWeight = "bold";
          if (span.color) s.style.color = span.color;
          if (span.size) s.style.fontSize = px(span.size, SIZES);
          out.append(s);
        }
      } else {
        out.textContent = node.text || "";
      }
      if (node.size) out.style.fontSize = px(node.size, SIZES);
      if (node.weight === "bold") out.style.fontWeight = "bold";
      if (node.color) out.style.color = node.color;
      if (node.align) out.style.textAlign = node.align === "start" ? "left" : node.align === "end" ? "right" : "center";
      if (node.action) { out.style.cursor = "pointer"; out.onclick = () => act(node.action); }
      break;
    }
    case "button": out = button(node); break;
    case "image": case "icon": {
      out = el("img", node.type === "icon" ? "fx-icon" : "fx-image");
      out.src = node.url;
      out.alt = node.altText || "";
      if (node.aspectRatio) out.style.aspectRatio = node.aspectRatio.replace(":", " / ");
      if (node.aspectMode === "cover") out.style.objectFit = "cover";
      if (node.type === "icon") { out.style.width = out.style.height = px(node.size || "md", SIZES); }
      if (node.backgroundColor) out.style.background = node.backgroundColor;
      if (node.action) { out.style.cursor = "pointer"; out.onclick = () => act(node.action); }
      break;
    }
    case "separator": out = el("hr", "fx-separator"); if (node.color) out.style.borderColor = node.color; break;
    case "spacer": case "filler": out = el("div", ""); out.style.flex = "1"; break;
    default: out = el("div", "alt", `［${node.type}］`);
  }
  const margin = px(node.margin, SPACING);
  if (margin) out.style[parent === "vertical" ? "marginTop" : "marginLeft"] = margin;
  if (node.flex !== undefined) out.style.flex = String(node.flex);
  else if (parent === "horizontal" || parent === "baseline") out.style.flex = "1";
  return out;
}

function drawChat(messages) {
  const chat = $("chat");
  chat.textContent = "";
  for (const entry of messages) {
    const row = el("div", "row " + (entry.from === "me" ? "me" : "account"));
    row.append(renderMessage(entry.message));
    chat.append(row);
  }
  chat.scrollTop = chat.scrollHeight;
  // LINE shows the quick replies of the account's latest message, until the user acts.
  const last = messages[messages.length - 1];
  const items = last && last.from === "account" && last.message.quickReply ? last.message.quickReply.items : [];
  const quick = $("quick");
  quick.textContent = "";
  for (const item of items) {
    const chip = el("button", "", item.action.label || item.action.text || "");
    chip.type = "button";
    chip.onclick = () => act(item.action);
    quick.append(chip);
  }
  quick.hidden = items.length === 0;
}

function drawMenu(menu) {
  $("menubar").hidden = !menu;
  $("menu").hidden = !menu || $("menu").dataset.closed === "1";
  if (!menu) return;
  $("menubar").textContent = (menu.chatBarText || "選單") + " ▾";
  const box = $("menu");
  for (const area of box.querySelectorAll(".area")) area.remove();
  $("menu-image").src = `/phone/api/menu-image?channel=${encodeURIComponent(state.channel)}&id=${encodeURIComponent(menu.richMenuId)}`;
  $("menu-image").alt = menu.name || "選單";
  for (const area of menu.areas || []) {
    const b = el("button", "area");
    b.type = "button";
    const a = area.action || {};
    b.setAttribute("aria-label", a.label || a.displayText || a.text || a.data || a.uri || "");
    b.style.left = (100 * area.bounds.x / menu.size.width) + "%";
    b.style.top = (100 * area.bounds.y / menu.size.height) + "%";
    b.style.width = (100 * area.bounds.width / menu.size.width) + "%";
    b.style.height = (100 * area.bounds.height / menu.size.height) + "%";
    b.onclick = () => act(a);
    box.append(b);
  }
}

async function refresh() {
  if (!state.user) return;
  const chosen = state.user;
  const answer = await api(`chat?channel=${encodeURIComponent(state.channel)}&user=${encodeURIComponent(chosen)}`);
  if (chosen !== state.user) return;
  const text = JSON.stringify(answer.messages);
  if (text !== shown) { shown = text; drawChat(answer.messages); }
  const menuText = JSON.stringify(answer.menu);
  if (menuText !== menuShown) {
    menuShown = menuText;
    drawMenu(answer.menu);
    $("chat").scrollTop = $("chat").scrollHeight;  // a taller menu leaves less room: keep the latest in view
  }
  if (state.person && state.person.mobile) {
    const sms = (await api("sms?mobile=" + encodeURIComponent(state.person.mobile))).sms;
    $("sms").hidden = sms.length === 0;
    if (sms.length) $("sms").textContent = "簡訊：" + sms[sms.length - 1].text;
  } else {
    $("sms").hidden = true;
  }
}

async function start() {
  setup = await api("setup");
  for (const account of setup.accounts) {
    const option = el("option", "", account.name);
    option.value = account.channel;
    $("account").append(option);
  }
  state.channel = $("account").value;
  fillPeople();
  $("account").onchange = () => { state.channel = $("account").value; fillPeople(); choose(); };
  $("person").onchange = choose;
  $("compose").onsubmit = (event) => {
    event.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("text").value = "";
    send("text", { text });
  };
  $("menubar").onclick = () => {
    $("menu").dataset.closed = $("menu").hidden ? "0" : "1";
    $("menu").hidden = !$("menu").hidden;
  };
  $("liff-close").onclick = closeLiff;
  $("menu-image").onload = () => { $("chat").scrollTop = $("chat").scrollHeight; };
  // An image that arrives after the chat was drawn makes it taller: keep the latest message in view.
  $("chat").addEventListener("load", () => { $("chat").scrollTop = $("chat").scrollHeight; }, true);
  await choose();
  setInterval(refresh, POLL_MS);
}

start();
