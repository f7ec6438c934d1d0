// A form is sent once: a second click (or Enter) while the first submission is on its way does nothing,
// and its buttons say so by being disabled. The server holds the same rule without JavaScript
// (hub/services/console_intents.py); this only spares the person a second request.
(function () {
  "use strict";
  var BUTTONS = "button, input[type=submit]";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (form.dataset.sending === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    form.setAttribute("aria-busy", "true");
    // After this event: a button disabled now would be left out of the form data the browser builds.
    window.setTimeout(function () {
      form.querySelectorAll(BUTTONS).forEach(function (button) { button.disabled = true; });
    }, 0);
  });

  // Back to a page kept in the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
      form.removeAttribute("aria-busy");
      form.querySelectorAll(BUTTONS).forEach(function (button) { button.disabled = false; });
    });
  });
})();
