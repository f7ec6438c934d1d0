// The LINE phone's webview (phone.py): LINE's LIFF SDK calls LINE's hosts (https://api.line.me/...);
// here the stand-in answers them, as a test lab's DNS would. Every other request goes out unchanged.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.protocol !== "https:" || !(url.hostname === "line.me" || url.hostname.endsWith(".line.me"))) return;
  event.respondWith(toStandIn(event.request, url));
});

async function toStandIn(request, url) {
  const init = { method: request.method, headers: request.headers };
  if (request.method !== "GET" && request.method !== "HEAD") init.body = await request.arrayBuffer();
  const sub = url.hostname === "line.me" ? "www" : url.hostname.slice(0, -".line.me".length);
  return fetch("/_webview/line/" + sub + url.pathname + url.search, init);
}
