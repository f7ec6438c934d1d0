// The start of every LIFF opening in the LINE phone's webview (phone.py): what the LINE app gives a LIFF
// app before its page loads, then the page itself (the endpoint path in `to`, the tokens in the fragment).
"use strict";

(async function open() {
  const target = new URLSearchParams(location.search).get("to") || "";
  if (!target.startsWith("/") || target.startsWith("//")) {
    document.getElementById("status").textContent = "不是 LIFF 頁面";
    return;
  }
  // A fresh LIFF store, as a new webview of the LINE app has (no token of an earlier opening stays).
  for (const store of [sessionStorage, localStorage]) {
    for (const key of Object.keys(store)) if (key.startsWith("LIFF_STORE:")) store.removeItem(key);
  }
  // The SDK reads "in the LINE app" from the app's user agent and keeps it here; a page cannot set a UA.
  sessionStorage.setItem("LIFF_STORE:isInClient", "1");
  await navigator.serviceWorker.register("/_webview/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  location.replace(target + location.hash);
})();
