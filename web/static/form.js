// A worker's form: conditional questions, a draft saved on the server while typing (debounced),
// files uploaded as soon as they are chosen, and a submit that shows problems beside each
// question and moves focus to the first one. Without this script the form still works: the
// server checks and answers with the same page.
(() => {
  "use strict";
  const form = document.getElementById("fill");
  if (!form) return;
  const base = `/f/${form.dataset.token}`;
  const lang = form.dataset.lang || "";
  const statusLine = document.getElementById("save-status");
  const summary = document.getElementById("error-summary");
  const sendButton = document.getElementById("send");
  const fields = Array.from(form.querySelectorAll(".field[data-field]"));
  const SAVE_DELAY_MS = 800;
  const RETRY_MS = 5000;
  let timer = null;
  let dirty = false;
  let saving = null;

  // ---- answers and conditions ----------------------------------------------------------------

  function valueOf(field) {
    const name = field.dataset.field;
    switch (field.dataset.type) {
      case "file": return null;
      case "choice": {
        const picked = form.querySelector(`input[name="${name}"]:checked`);
        return picked ? picked.value : "";
      }
      case "checkbox":
      case "consent": return form.elements[name].checked ? "yes" : "";
      default: return form.elements[name].value;
    }
  }

  function answers() {
    const result = {};
    for (const field of fields) {
      if (field.dataset.type !== "file") result[field.dataset.field] = valueOf(field);
    }
    return result;
  }

  function applyConditions() {
    const now = answers();
    const visible = {};
    for (const field of fields) {
      const on = field.dataset.showIf;
      let show = true;
      if (on) {
        const value = (now[on] || "").trim();
        const wanted = field.dataset.equals;
        show = visible[on] !== false && (wanted ? value === wanted : value !== "");
      }
      visible[field.dataset.field] = show;
      field.hidden = !show;
      const only = field.querySelector(".only-if");
      if (only) only.hidden = true;  // the condition is applied here; the note is for no-script
    }
  }

  // ---- the draft -----------------------------------------------------------------------------

  function say(text) { statusLine.textContent = text; }
  function state(value) { form.dataset.draft = value; }  // dirty, saving, saved, failed

  async function saveDraft(keepalive = false) {
    if (!dirty) return;
    dirty = false;
    state("saving");
    say(t("Saving…"));
    try {
      const response = await fetch(`${base}/draft`, {
        method: "PUT", keepalive, headers: {"content-type": "application/json",
                                            "accept": "application/json"},
        body: JSON.stringify({answers: answers()}),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      if (!dirty) state("saved");
      say(t("Draft saved"));
    } catch (err) {
      dirty = true;
      state("failed");
      say(t("Not saved: check your connection. We will try again."));
      schedule(RETRY_MS);
    }
  }

  function schedule(delay = SAVE_DELAY_MS) {
    clearTimeout(timer);
    timer = setTimeout(() => { saving = saveDraft(); }, delay);
  }

  function changed(event) {
    if (event.target.type === "file") return;
    applyConditions();
    clearError(event.target.closest(".field"));
    dirty = true;
    state("dirty");
    schedule();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", (event) => {
    if (event.target.type === "file") upload(event.target); else changed(event);
  });
  const flush = () => { if (dirty) { clearTimeout(timer); saveDraft(true); } };
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });

  // ---- problems ------------------------------------------------------------------------------

  function fieldNamed(name) { return form.querySelector(`.field[data-field="${name}"]`); }

  function clearError(field) {
    if (!field || !field.classList.contains("invalid")) return;
    field.classList.remove("invalid");
    field.querySelector(".field-error").textContent = "";
    field.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  function labelOf(field) {
    const label = field.querySelector("legend, label");
    const copy = label.cloneNode(true);
    copy.querySelectorAll(".req, .mt-mark").forEach((el) => el.remove());
    return copy.textContent.trim();
  }

  function showErrors(errors) {
    const list = summary.querySelector("ul");
    list.textContent = "";
    let first = null;
    for (const field of fields) {
      const text = errors[field.dataset.field];
      if (!text) { clearError(field); continue; }
      field.classList.add("invalid");
      field.querySelector(".field-error").textContent = text;
      field.querySelectorAll("input, textarea, select").forEach(
        (el) => el.setAttribute("aria-invalid", "true"));
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `#f-${field.dataset.field}`;
      link.textContent = `${labelOf(field)} — ${text}`;
      item.append(link);
      list.append(item);
      first = first || field;
    }
    summary.hidden = !first;
    if (first) document.getElementById(`f-${first.dataset.field}`).focus();
  }

  function showProblem(text) {
    const list = summary.querySelector("ul");
    list.textContent = "";
    const item = document.createElement("li");
    item.textContent = text;
    list.append(item);
    summary.hidden = false;
    summary.focus();
  }

  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#f-']");
    if (!link) return;
    event.preventDefault();
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (target) { target.focus(); target.scrollIntoView({block: "center"}); }
  });

  // ---- files ---------------------------------------------------------------------------------

  function fileItem(field, file) {
    const item = document.createElement("li");
    item.dataset.attachment = file.id;
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.filename;
    const size = document.createElement("span");
    size.className = "muted";
    const kb = file.size / 1000;
    size.textContent = kb < 1 ? ` (${file.size} Bytes) ` : kb < 1000 ? ` (${kb.toFixed(1)} kB) `
      : ` (${(kb / 1000).toFixed(1)} MB) `;
    const remove = document.createElement("button");
    remove.type = "submit";
    remove.className = "secondary small remove-file";
    remove.formAction = `${base}/attachments/${file.id}/delete`;
    remove.formNoValidate = true;
    remove.textContent = t("Remove");
    remove.setAttribute("aria-label", `${t("Remove")}: ${file.filename}`);
    item.append(name, size, remove);
    return item;
  }

  async function upload(input) {
    const field = input.closest(".field");
    const list = field.querySelector(".files");
    for (const file of Array.from(input.files)) {
      const body = new FormData();
      body.append("field", field.dataset.field);
      body.append("file", file, file.name);
      say(t("Uploading…"));
      try {
        const response = await fetch(`${base}/attachments?lang=${encodeURIComponent(lang)}`, {
          method: "POST", body, headers: {"accept": "application/json"}});
        const data = await response.json();
        if (!response.ok) {
          showErrors({[field.dataset.field]: data.error ? data.error.message : `HTTP ${response.status}`});
          continue;
        }
        clearError(field);
        list.append(fileItem(field, data));
        say("");
      } catch (err) {
        say(t("Not saved: check your connection. We will try again."));
      }
    }
    input.value = "";
  }

  form.addEventListener("click", async (event) => {
    const remove = event.target.closest(".remove-file");
    if (!remove) return;
    event.preventDefault();
    const item = remove.closest("li");
    const response = await fetch(remove.formAction, {
      method: "POST", headers: {"accept": "application/json"}});
    if (response.ok) {
      const field = remove.closest(".field");
      item.remove();
      document.getElementById(`f-${field.dataset.field}`).focus();
    }
  });

  // ---- sending -------------------------------------------------------------------------------

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    if (saving) await saving;
    sendButton.disabled = true;
    say(t("Sending…"));
    const body = new FormData(form);
    for (const field of fields) {
      if (field.hidden) body.delete(field.dataset.field);
      if (field.dataset.type === "file") body.delete(field.dataset.field);
    }
    try {
      const response = await fetch(form.action, {
        method: "POST", body, headers: {"accept": "application/json"}});
      const data = await response.json();
      if (response.ok && form.dataset.embedded) {  // inside the room page (form-push.js)
        form.dispatchEvent(new CustomEvent("form:sent", { bubbles: true, detail: data }));
        return;
      }
      if (response.ok) { window.location.assign(data.url); return; }
      say("");
      if (data.errors) showErrors(data.errors);
      else showProblem(data.error ? data.error.message : `HTTP ${response.status}`);
    } catch (err) {
      say("");
      showProblem(t("Not sent yet: the connection failed. Your answers are saved; press the button again."));
    } finally {
      sendButton.disabled = false;
    }
  });

  applyConditions();
  const firstInvalid = form.querySelector(".field.invalid");
  if (firstInvalid) document.getElementById(`f-${firstInvalid.dataset.field}`).focus();
})();
