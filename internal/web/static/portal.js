// chargebook portal: small behaviours on top of server-rendered pages. No inline scripts
// (the Content-Security-Policy forbids them); everything is wired by data- attributes.
(function () {
  "use strict";
  // htmx swaps form errors (422) and error messages too, not only 2xx answers.
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "[45]..", swap: true, error: true },
      ];
    }
  });

  // Copy buttons: data-copy="#selector" copies that input's value.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var input = document.querySelector(btn.dataset.copy);
    if (!input) return;
    var done = function () {
      var label = btn.textContent;
      btn.textContent = btn.dataset.copied || "Copied";
      setTimeout(function () { btn.textContent = label; }, 2000);
    };
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });

  // Forms with data-confirm ask first.
  document.addEventListener("submit", function (e) {
    var msg = e.target.dataset && e.target.dataset.confirm;
    if (msg && !window.confirm(msg)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  document.addEventListener("htmx:confirm", function (e) {
    var form = e.target.closest && e.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) e.preventDefault();
  });

  // Live values: an element with data-sse="/url" listens to the server-sent events there;
  // each element inside with data-sse-swap="name" gets the HTML of the events of that name.
  // Other scripts listen for their events with the "sse:<name>" DOM event.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-sse]").forEach(function (el) {
      var es = new EventSource(el.dataset.sse);
      var names = new Set(["history", "power"]);
      el.querySelectorAll("[data-sse-swap]").forEach(function (t) { names.add(t.dataset.sseSwap); });
      names.forEach(function (name) {
        es.addEventListener(name, function (ev) {
          el.querySelectorAll('[data-sse-swap="' + name + '"]').forEach(function (t) { t.innerHTML = ev.data; });
          el.dispatchEvent(new CustomEvent("sse:" + name, { detail: ev.data, bubbles: true }));
        });
      });
      window.addEventListener("pagehide", function () { es.close(); });
    });
  });
})();
