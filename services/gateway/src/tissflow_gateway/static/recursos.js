// Recursos de glosa: the justificativa counter (up to the standard's 500 characters).
document.addEventListener("DOMContentLoaded", () => {
  for (const area of document.querySelectorAll("textarea[data-contador]")) {
    const out = area.closest("fieldset, form")?.querySelector("[data-contagem]");
    if (!out) continue;
    const update = () => { out.textContent = String(area.value.length); };
    area.addEventListener("input", update);
    update();
  }
});
