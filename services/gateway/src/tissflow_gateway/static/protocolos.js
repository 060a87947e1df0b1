/* tissflow portal, protocols: the unread-messages badge in the menu and the live part of a
   protocol's page, both refreshed by polling (no reload; nothing inline, for the CSP). */
(function () {
  "use strict";

  function unread() {
    var badges = document.querySelectorAll("[data-unread]");
    if (!badges.length) { return; }
    fetch("/api/v1/mensagens/nao-lidas", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        badges.forEach(function (b) {
          b.textContent = body.nao_lidas ? String(body.nao_lidas) : "";
          b.hidden = !body.nao_lidas;
          b.setAttribute("aria-label", body.nao_lidas + " mensagem(ns) não lida(s)");
        });
      })
      .catch(function () { /* next round */ });
  }

  function live(region) {
    var url = region.getAttribute("data-live");
    var last = region.innerHTML;
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null && html !== last) { region.innerHTML = html; }
      })
      .catch(function () { /* next round */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    unread();
    setInterval(unread, 5000);
    var region = document.querySelector("[data-live]");
    if (region) { setInterval(function () { live(region); }, 3000); }
  });
})();
