// The Owl consoles' script. Every page works without it, as links and forms; it adds confirmations, actions that
// update the page in place (with the server's own HTML), keyboard shortcuts, and live updates over Server-Sent Events.
(() => {
  "use strict";
  const token = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // Forms: a confirmation where the form or its button asks for one; in place where the form says so.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.submitter?.hasAttribute("data-preview-button") && document.getElementById("preview")) {
      event.preventDefault();
      preview(form, 0);
      return;
    }
    const question = event.submitter?.dataset.confirm || form.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    // getAttribute: a form's own properties are shadowed by its fields (a button named "action").
    if (form.hasAttribute("data-inplace") && (form.getAttribute("method") || "").toLowerCase() === "post") {
      event.preventDefault();
      post(form, event.submitter);
    }
  });

  async function post(form, submitter) {
    const body = new URLSearchParams(new FormData(form, submitter));
    let response;
    try {
      response = await fetch(form.getAttribute("action") || window.location.href,
        { method: "POST", body, credentials: "same-origin", headers: { "X-CSRF-Token": token() } });
    } catch {
      form.removeAttribute("data-inplace");
      form.requestSubmit(submitter);   // offline or refused: the plain form shows what happened
      return;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const next = page.querySelector("main");
    if (!next) { window.location.assign(response.url); return; }
    document.querySelector("main").replaceWith(next);
    document.title = page.title;
    history.replaceState(null, "", response.url);
    enhance(document);
    next.querySelector(".toast button, [autofocus]")?.focus();
  }

  // Markdown preview: the server renders the form's text, shown beside the editor as it is typed.
  let previewTimer;
  function preview(form, delay) {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(async () => {
      const body = new URLSearchParams(new FormData(form));
      body.set("intent", "preview");
      try {
        const response = await fetch(form.getAttribute("action"), { method: "POST", body, credentials: "same-origin",
          headers: { "X-CSRF-Token": token(), "X-Owl-Fragment": "preview" } });
        if (response.ok) document.getElementById("preview").innerHTML = await response.text();
      } catch { /* offline: the Preview button still posts the whole form */ }
    }, delay);
  }

  // Keyboard: / search, j/k move through a list, Enter or o open, a acknowledge, r resolve, ? help.
  let current = -1;
  const rows = () => [...document.querySelectorAll("[data-row]")];
  function select(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, n) => row.classList.toggle("selected", n === current));
    all[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const scope = rows()[current] || document;
    const press = (key) => scope.querySelector(`[data-key="${key}"]`)?.click();
    switch (event.key) {
      case "/": event.preventDefault(); document.getElementById("q")?.focus(); break;
      case "?": document.getElementById("keys")?.showModal(); break;
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "Enter": case "o": if (current >= 0) rows()[current].querySelector("a")?.click(); break;
      case "a": press("a"); break;
      case "r":
        // In a list, resolving is done on the alert's page, where it asks for notes and confirmation.
        if (rows()[current]) window.location.assign(rows()[current].querySelector("a").href + "#resolve");
        else press("r");
        break;
      default: return;
    }
  });

  // Live updates: the server names what changed (an event of the page's topic with the object's id); a row on this
  // page is fetched again as the server renders it, and a list that may have gained a row is reloaded in place.
  function listen() {
    const url = document.body.dataset.events;
    const topic = document.body.dataset.topic;
    if (!url || !topic || !window.EventSource) return;
    const source = new EventSource(url);
    source.addEventListener(topic, async (event) => {
      let change;
      try { change = JSON.parse(event.data); } catch { return; }
      const row = document.querySelector(`[data-row][data-id="${CSS.escape(String(change.id))}"]`);
      const fragment = document.body.dataset.fragment;
      if (row && fragment) {
        const response = await fetch(fragment.replace("{id}", encodeURIComponent(change.id)), { credentials: "same-origin" });
        if (!response.ok) return;
        const template = document.createElement("template");
        template.innerHTML = (await response.text()).trim();
        const fresh = template.content.querySelector("[data-row]");
        if (fresh) { row.replaceWith(fresh); enhance(fresh); }
      } else if (document.body.dataset.reload === "true") {
        refresh();
      }
    });
  }
  let pending;
  function refresh() {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      if (document.querySelector("main input[type=checkbox]:checked, main :focus")) return; // never under a person's hands
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), "text/html").querySelector("main");
      if (next) { document.querySelector("main").replaceWith(next); enhance(document); }
    }, 150);
  }

  // What each new piece of page needs: select-all boxes, selects that apply at once, toasts that leave by themselves.
  function enhance(root) {
    root.querySelectorAll("input[data-select-all]").forEach((box) => {
      box.addEventListener("change", () => {
        [...box.form.elements].filter((each) => each.name === "id").forEach((each) => { each.checked = box.checked; });
      });
    });
    root.querySelectorAll("select[data-autosubmit]").forEach((select) => {
      select.addEventListener("change", () => select.form.requestSubmit());
      select.form.querySelector("button.apply")?.setAttribute("hidden", "");
    });
    root.querySelectorAll("form[data-preview]").forEach((form) => form.addEventListener("input", () => preview(form, 400)));
    root.querySelectorAll(".toast").forEach((toast) => setTimeout(() => toast.remove(), 10000));
  }

  enhance(document);
  listen();
})();
