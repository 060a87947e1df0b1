/* Digitação de Guias: items added and removed, totals, carteira and TUSS look-ups, and a
   copy of what is typed kept in this browser until the guide is saved. Dependency-free. */
(function () {
  "use strict";

  function dinheiro(texto) {
    texto = (texto || "").replace(/R\$|\s/g, "");
    if (!texto) { return null; }
    if (texto.indexOf(",") >= 0) { texto = texto.replace(/\./g, "").replace(",", "."); }
    var v = Number(texto);
    return isFinite(v) ? v : null;
  }
  function brl(v) {
    if (v === null || isNaN(v)) { return "—"; }
    return "R$ " + v.toFixed(2).replace(".", ",").replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }
  function campo(scope, chave) { return scope.querySelector("[data-campo='" + chave + "']"); }
  function valor(scope, chave) { var c = campo(scope, chave); return c ? c.value.trim() : ""; }
  function isoDe(texto) {
    var m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(texto || "");
    return m ? m[3] + "-" + m[2] + "-" + m[1] : "";
  }

  // dd/mm/aaaa on items added after the page loaded (portal.js marks those of the page).
  function mascaraData(scope) {
    scope.querySelectorAll("input[data-date-br]").forEach(function (field) {
      field.addEventListener("input", function (e) {
        if (e.inputType && e.inputType.indexOf("delete") === 0) { return; }
        var d = field.value.replace(/\D/g, "").slice(0, 8);
        var out = d.slice(0, 2);
        if (d.length >= 2) { out += "/" + d.slice(2, 4); }
        if (d.length >= 4) { out += "/" + d.slice(4, 8); }
        if (field.value !== out) { field.value = out; }
      });
    });
  }

  function setupForm(form) {
    var tipo = form.getAttribute("data-tipo");
    var lista = form.querySelector("[data-itens]");
    var modelo = document.getElementById("dg-item-template");
    var totalEl = document.getElementById("dg-total");
    var chave = "tissflow-digitacao:" + form.getAttribute("data-rascunho-chave");

    function totalItem(item) {
      var unit = dinheiro(valor(item, "valor_unitario"));
      var qtd = parseInt(valor(item, "quantidade"), 10);
      var fator = campo(item, "reducao_acrescimo") ? dinheiro(valor(item, "reducao_acrescimo")) : 1;
      if (unit === null || isNaN(qtd) || fator === null) { return null; }
      return Math.round(unit * qtd * fator * 100) / 100;
    }
    function recalcular() {
      if (tipo === "consulta") {
        totalEl.textContent = brl(dinheiro(valor(form, "valor_procedimento")));
        return;
      }
      var soma = 0, algum = false;
      form.querySelectorAll("[data-item]").forEach(function (item) {
        var t = totalItem(item);
        item.querySelector("[data-item-total]").textContent = brl(t);
        if (t !== null) { soma += t; algum = true; }
      });
      totalEl.textContent = algum ? brl(soma) : "—";
    }
    function renumerar() {
      form.querySelectorAll("[data-item]").forEach(function (item, n) {
        item.querySelector("[data-item-num]").textContent = String(n + 1);
        item.querySelectorAll("[name^='i.']").forEach(function (el) {
          var antigo = el.id;
          el.name = el.name.replace(/^i\.[^.]+\./, "i." + n + ".");
          el.id = el.id.replace(/^i-[^-]+-/, "i-" + n + "-");
          var label = item.querySelector("label[for='" + antigo + "']");
          if (label) { label.setAttribute("for", el.id); }
        });
      });
    }
    function ligarItem(item) {
      item.querySelector("[data-remover-item]").addEventListener("click", function () {
        if (form.querySelectorAll("[data-item]").length === 1) {
          item.querySelectorAll("input").forEach(function (el) { if (!el.readOnly) { el.value = ""; } });
        } else {
          item.remove();
        }
        renumerar();
        recalcular();
        guardar();
      });
      ligarBuscas(item);
    }
    if (lista && modelo) {
      form.querySelectorAll("[data-item]").forEach(ligarItem);
      document.getElementById("dg-add-item").addEventListener("click", function () {
        var n = form.querySelectorAll("[data-item]").length;
        var html = modelo.innerHTML.replace(/__N__/g, String(n));
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var item = holder.firstElementChild;
        var anterior = lista.lastElementChild;
        // The new item starts with the previous item's date (usually the same day),
        // and, on Honorários, the previous item's professional (usually the same surgeon).
        ["data_execucao", "data_realizacao", "grau_participacao", "prof_codigo", "prof_nome",
         "prof_conselho", "prof_numero_conselho", "prof_uf", "prof_cbo"].forEach(function (k) {
          if (anterior && campo(item, k) && !campo(item, k).value) { campo(item, k).value = valor(anterior, k); }
        });
        lista.appendChild(item);
        mascaraData(item);
        ligarItem(item);
        renumerar();
        var primeiro = item.querySelector("input, select");
        if (primeiro) { primeiro.focus(); }
      });
    }
    form.addEventListener("input", function () { recalcular(); guardar(); });
    form.addEventListener("change", function () { recalcular(); guardar(); });

    // --- carteira in the operator's registry ---
    var carteira = campo(form, "numero_carteira");
    var nome = campo(form, "nome_beneficiario");
    var status = document.getElementById("dg-carteira-status");
    function buscarCarteira() {
      var n = carteira.value.trim();
      if (!n || !status) { return; }
      status.className = "hint dg-status";
      status.textContent = "Consultando o cadastro…";
      fetch("/api/v1/digitacao/carteiras/" + encodeURIComponent(n), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (res) {
          if (res.ok) {
            if (nome) { nome.value = res.body.nome || ""; }
            status.className = "hint dg-status " + (res.body.ativo ? "ok" : "bad");
            status.textContent = (res.body.nome || "") + (res.body.ativo ? " · carteira ativa" : " · carteira INATIVA no cadastro");
          } else {
            if (nome) { nome.value = ""; }
            status.className = "hint dg-status bad";
            status.textContent = res.body && res.body.message ? res.body.message : "Carteira não encontrada.";
          }
          guardar();
        }).catch(function () { status.textContent = "Não foi possível consultar o cadastro agora."; });
    }
    if (carteira) { carteira.addEventListener("change", buscarCarteira); }

    // --- TUSS by code or description, with vigência ---
    function ligarBuscas(scope) {
      scope.querySelectorAll("[data-busca='tuss'], [data-busca='descricao_tuss']").forEach(function (input) {
        if (input.readOnly) { return; }
        var caixa = input.parentNode.querySelector(".dg-sugestoes");
        var timer = null;
        input.addEventListener("input", function () {
          clearTimeout(timer);
          var q = input.value.trim();
          var minimo = input.getAttribute("data-busca") === "tuss" ? 4 : 3;
          if (q.length < minimo) { caixa.hidden = true; return; }
          timer = setTimeout(function () { buscarTuss(input, caixa, q); }, 300);
        });
        input.addEventListener("keydown", function (e) { if (e.key === "Escape") { caixa.hidden = true; } });
      });
    }
    function buscarTuss(input, caixa, q) {
      var scope = input.closest("[data-tuss-scope]") || form;
      var tabela = valor(scope, "tabela");
      var dia = isoDe(valor(scope, "data_execucao") || valor(scope, "data_realizacao") || valor(form, "data_atendimento"));
      var url = "/api/v1/digitacao/tuss?q=" + encodeURIComponent(q) +
        (/^(18|19|20|22)$/.test(tabela) ? "&tabela=" + tabela : "") + (dia ? "&data=" + dia : "");
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) {
          caixa.innerHTML = "";
          if (!body.items.length) {
            var vazio = document.createElement("li");
            vazio.className = "hint";
            vazio.style.padding = ".4rem .7rem";
            vazio.textContent = "Nenhum procedimento TUSS encontrado.";
            caixa.appendChild(vazio);
          }
          body.items.forEach(function (it) {
            var li = document.createElement("li");
            var b = document.createElement("button");
            b.type = "button";
            b.setAttribute("role", "option");
            b.textContent = it.tabela + " · " + it.codigo + " — " + it.termo;
            if (!it.vigente) {
              var fora = document.createElement("span");
              fora.className = "fora";
              fora.textContent = "fora de vigência" + (it.vigencia_fim ? " desde " + it.vigencia_fim.split("-").reverse().join("/") : "");
              b.appendChild(fora);
            }
            b.addEventListener("click", function () {
              if (campo(scope, "tabela")) { campo(scope, "tabela").value = it.tabela; }
              if (campo(scope, "codigo")) { campo(scope, "codigo").value = it.codigo; }
              if (campo(scope, "descricao")) { campo(scope, "descricao").value = it.termo.slice(0, 150); }
              caixa.hidden = true;
              guardar();
              var proximo = campo(scope, "quantidade") || campo(scope, "valor_procedimento");
              if (proximo) { proximo.focus(); }
            });
            li.appendChild(b);
            caixa.appendChild(li);
          });
          caixa.hidden = false;
        }).catch(function () { caixa.hidden = true; });
    }
    document.addEventListener("click", function (e) {
      form.querySelectorAll(".dg-sugestoes").forEach(function (c) {
        if (!c.parentNode.contains(e.target)) { c.hidden = true; }
      });
    });
    ligarBuscas(form.querySelector(".dg-secao[data-tuss-scope]") || document.createElement("div"));

    // --- a copy of what is typed, kept until the guide is saved ---
    function estado() {
      var dados = {};
      form.querySelectorAll("[name^='c.'], [name^='i.']").forEach(function (el) { dados[el.name] = el.value; });
      return dados;
    }
    function guardar() {
      try { localStorage.setItem(chave, JSON.stringify({ em: Date.now(), dados: estado() })); } catch (e) { /* private mode */ }
    }
    var salvo = /[?&]ok=(salva|fora_do_lote)/.test(window.location.search);
    if (salvo) {
      try { localStorage.removeItem(chave); localStorage.removeItem("tissflow-digitacao:nova-" + tipo); } catch (e) { /* ignore */ }
    }
    form.addEventListener("submit", function () { guardar(); });
    var copia = null;
    try { copia = JSON.parse(localStorage.getItem(chave) || "null"); } catch (e) { copia = null; }
    var atual = JSON.stringify(estado());
    if (!salvo && copia && copia.dados && JSON.stringify(copia.dados) !== atual) {
      var aviso = document.createElement("p");
      aviso.className = "notice";
      aviso.id = "dg-recuperar";
      aviso.textContent = "Há uma digitação deste formulário que não foi salva (" +
        new Date(copia.em).toLocaleString("pt-BR") + "). ";
      var botao = document.createElement("button");
      botao.type = "button";
      botao.className = "btn small";
      botao.textContent = "Recuperar o que foi digitado";
      botao.addEventListener("click", function () {
        Object.keys(copia.dados).forEach(function (nomeCampo) {
          var m = /^i\.(\d+)\./.exec(nomeCampo);
          while (m && lista && form.querySelectorAll("[data-item]").length <= Number(m[1])) {
            document.getElementById("dg-add-item").click();
          }
          var el = form.querySelector("[name='" + nomeCampo + "']");
          if (el) { el.value = copia.dados[nomeCampo]; }
        });
        aviso.remove();
        recalcular();
      });
      aviso.appendChild(botao);
      form.insertBefore(aviso, form.firstChild);
    }

    // After the session expired, the login box saves what is on the page now.
    var retomar = document.getElementById("dg-retomar");
    if (retomar) {
      retomar.addEventListener("submit", function () {
        var r = JSON.parse(document.getElementById("dg-rascunho").value);
        var campos = {}, itens = {};
        Object.keys(estado()).forEach(function (k) {
          var v = estado()[k];
          var m = /^i\.(\d+)\.(.+)$/.exec(k);
          if (m) { (itens[m[1]] = itens[m[1]] || {})[m[2]] = v; } else { campos[k.slice(2)] = v; }
        });
        r.campos = campos;
        r.itens = Object.keys(itens).sort(function (a, b) { return a - b; }).map(function (k) { return itens[k]; });
        document.getElementById("dg-rascunho").value = JSON.stringify(r);
      });
    }
    recalcular();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("dg-form");
    if (form) { setupForm(form); }
  });
})();
