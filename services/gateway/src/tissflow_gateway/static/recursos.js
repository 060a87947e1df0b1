// Recursos de glosa: the justificativa counter (up to the standard's 500 characters) and
// the menu's badge of answers the clinic has not opened yet (polled; nothing inline, CSP).
document.addEventListener("DOMContentLoaded", () => {
  for (const area of document.querySelectorAll("textarea[data-contador]")) {
    const out = area.closest("fieldset, form")?.querySelector("[data-contagem]");
    if (!out) continue;
    const update = () => { out.textContent = String(area.value.length); };
    area.addEventListener("input", update);
    update();
  }

  const badges = document.querySelectorAll("[data-respostas-novas]");
  if (!badges.length) return;
  const refresh = () => {
    fetch("/api/v1/recursos/respostas-novas", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((r) => (r.ok ? r.json() : null))
      .then((body) => {
        if (!body) return;
        const n = body.respostas_novas;
        for (const b of badges) {
          b.textContent = n ? String(n) : "";
          b.hidden = !n;
          b.setAttribute("aria-label", `${n} resposta(s) de recurso não lida(s)`);
        }
      })
      .catch(() => { /* next round */ });
  };
  refresh();
  setInterval(refresh, 5000);
});
