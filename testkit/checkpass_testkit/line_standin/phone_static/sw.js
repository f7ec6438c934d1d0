// The LINE phone's webview (phone.py): LINE's LIFF SDK calls LINE's hosts (https://api.line.me/...,
// its CDN https://*.line-scdn.net/...); here the stand-in answers them, as a test lab's DNS would, so
// nothing leaves the machine. Every other request goes out unchanged.
"use strict";

const LINE_DOMAINS = ["line.me", "line-scdn.net"];

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const domain = LINE_DOMAINS.find((d) => url.hostname === d || url.hostname.endsWith("." + d));
  if (url.protocol !== "https:" || !domain) return;
  event.respondWith(toStandIn(event.request, url));
});

async function toStandIn(request, url) {
  const init = { method: request.method, headers: request.headers };
  if (request.method !== "GET" && request.method !== "HEAD") init.body = await request.arrayBuffer();
  return fetch("/_webview/line/" + url.hostname + url.pathname + url.search, init);
}
