/* tissflow portal: upload with progress and live status, status polling, confirmations.
   Small and dependency-free; every page also works without it except the upload. */
(function () {
  "use strict";

  var STATUS = {
    em_processamento: "Em Processamento",
    importado: "Importado com Sucesso",
    invalido: "Inválido"
  };
  var TAB = { em_processamento: "em_processamento", importado: "importados", invalido: "invalidos" };

  function mb(bytes) { return (bytes / 1024 / 1024).toFixed(1).replace(".", ",") + " MB"; }

  function pollFile(fileId, onStatus, onDone) {
    var delay = 800;
    function tick() {
      fetch("/api/v1/files/" + encodeURIComponent(fileId), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (doc) {
        if (doc && doc.status !== "em_processamento") { onDone(doc); return; }
        if (doc) { onStatus(doc); }
        delay = Math.min(delay * 1.3, 4000);
        setTimeout(tick, delay);
      }).catch(function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, delay);
  }

  function setupUpload(form) {
    var input = document.getElementById("arquivo");
    var zone = document.getElementById("dropzone");
    var chosen = document.getElementById("dz-file");
    var error = document.getElementById("upload-error");
    var button = document.getElementById("incluir");
    var progress = document.getElementById("progress");
    var bar = document.getElementById("progress-bar");
    var fill = document.getElementById("progress-fill");
    var pct = document.getElementById("progress-pct");
    var ptext = document.getElementById("progress-text");
    var processing = document.getElementById("processing");
    var pstatus = document.getElementById("processing-status");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
    var file = null;

    function fail(message) {
      error.textContent = message;
      error.hidden = false;
    }
    function choose(files) {
      error.hidden = true;
      file = null;
      chosen.textContent = "";
      button.disabled = true;
      if (!files || files.length === 0) { return; }
      if (files.length > 1) {
        fail("Selecione apenas um arquivo por vez: cada arquivo XML forma um lote.");
        return;
      }
      var f = files[0];
      if (!/\.xml$/i.test(f.name)) {
        fail("O arquivo \u201c" + f.name + "\u201d não é um XML. Envie o arquivo TISS com extensão .xml.");
        return;
      }
      if (f.size > maxBytes) {
        fail("O arquivo \u201c" + f.name + "\u201d tem " + mb(f.size) +
             " e excede o limite de 15 MB por arquivo. Divida o lote em arquivos menores.");
        return;
      }
      if (f.size === 0) { fail("O arquivo \u201c" + f.name + "\u201d está vazio."); return; }
      file = f;
      chosen.textContent = f.name + " · " + (f.size < 1024 * 1024 ? Math.max(1, Math.round(f.size / 1024)) + " KB" : mb(f.size));
      button.disabled = false;
    }

    input.addEventListener("change", function () { choose(input.files); });
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) { choose(e.dataTransfer && e.dataTransfer.files); });

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!file) { fail("Escolha um arquivo XML para incluir."); return; }
      button.disabled = true;
      input.disabled = true;
      error.hidden = true;
      progress.hidden = false;
      var data = new FormData();
      data.append("arquivo", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/uploads");
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (ev) {
        if (!ev.lengthComputable) { return; }
        var p = Math.round((ev.loaded / ev.total) * 100);
        fill.style.width = p + "%";
        pct.textContent = p + "%";
        bar.setAttribute("aria-valuenow", String(p));
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
        if (xhr.status === 202 || xhr.status === 200) {
          fill.style.width = "100%";
          pct.textContent = "100%";
          ptext.textContent = "Arquivo enviado";
          processing.hidden = false;
          pollFile(body.file_id, function (doc) {
            pstatus.textContent = "Situação: " + STATUS[doc.status];
          }, function (doc) {
            pstatus.textContent = "Situação: " + (STATUS[doc.status] || doc.status);
            window.location.assign("/arquivos?aba=" + TAB[doc.status] + "&arquivo=" + encodeURIComponent(doc.file_id));
          });
          return;
        }
        progress.hidden = true;
        button.disabled = false;
        input.disabled = false;
        fail(body && body.message ? body.message : "Não foi possível enviar o arquivo (erro " + xhr.status + "). Tente novamente.");
      });
      xhr.addEventListener("error", function () {
        progress.hidden = true;
        button.disabled = false;
        input.disabled = false;
        fail("Falha de conexão durante o envio. Verifique sua internet e tente novamente.");
      });
      xhr.send(data);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("upload-form");
    if (form) { setupUpload(form); }

    var poll = document.querySelector("[data-poll-file]");
    if (poll) {
      var text = poll.querySelector("[data-poll-status]");
      pollFile(poll.getAttribute("data-poll-file"), function () {
        if (text) { text.textContent = "Ainda em processamento…"; }
      }, function () { window.location.assign(window.location.pathname); });
    }

    var reload = document.querySelector("[data-reload-after]");
    if (reload) {
      // A page that waits says how long: data-reload-url counts the attempts.
      var next = reload.getAttribute("data-reload-url");
      setTimeout(function () { if (next) { window.location.assign(next); } else { window.location.reload(); } },
                 parseInt(reload.getAttribute("data-reload-after"), 10) || 4000);
    }

    // dd/mm/aaaa fields: the slashes come by themselves as the clerk types the digits.
    document.querySelectorAll("input[data-date-br]").forEach(function (field) {
      field.addEventListener("input", function (e) {
        if (e.inputType && e.inputType.indexOf("delete") === 0) { return; }
        var d = field.value.replace(/\D/g, "").slice(0, 8);
        var out = d.slice(0, 2);
        if (d.length >= 2) { out += "/" + d.slice(2, 4); }
        if (d.length >= 4) { out += "/" + d.slice(4, 8); }
        if (/^\d{0,2}(\/\d{0,2}(\/\d{0,4})?)?$/.test(field.value) && field.value.length >= out.length) { return; }
        field.value = out;
      });
    });

    // A button that asks first (Ignorar todas): it may submit a form shared with others.
    document.querySelectorAll("button[data-confirm]").forEach(function (b) {
      b.addEventListener("click", function (e) {
        if (!window.confirm(b.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });

    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
  });
})();
