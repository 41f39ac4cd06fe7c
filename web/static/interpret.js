// Counsel Room: the interpreter's console. It reads the room socket (the room page's token, no
// media: the interpreter listens only) and shows one row per utterance: time (the session's
// clock as wall time in the agency's zone), speaker, the original and its translation into
// every reading language in use, side by side. Partials are grey and marked; finals can be
// corrected in place (`caption.correct`): the server publishes the utterance's next revision,
// which every console and the readers of that language show (a row keeps its highest `rev`).
// On every (re)connect the console asks for the room's finals as they are now (`captions.sync`),
// so corrections made meanwhile, or before a restart, are there.
"use strict";
(function () {
  const root = document.getElementById("console");
  if (!root) return;
  const roomId = root.dataset.roomId;
  const $ = (id) => document.getElementById(id);
  const body = $("console-lines");
  const scroller = $("console-scroll");
  const columnsRow = $("console-columns");
  const filter = $("language-filter");
  const rows = new Map(); // utterance_id -> {row, caption, cells: Map(lang -> td), editing}
  const languages = []; // reading languages in use, in the order they appeared
  const hidden = new Set(); // languages filtered out
  let languageNames = {};
  try { languageNames = JSON.parse(root.dataset.languages || "{}"); } catch (e) { /* none */ }
  const languageName = (code) => languageNames[code] || code;
  const openedAt = root.dataset.openedAt ? Date.parse(root.dataset.openedAt) : NaN;
  let clock;
  try {
    clock = new Intl.DateTimeFormat(window.uiLocale, { timeZone: root.dataset.timezone || "UTC",
      hour: "2-digit", minute: "2-digit", second: "2-digit" });
  } catch (e) {
    clock = new Intl.DateTimeFormat(window.uiLocale, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function wallTime(seconds) {
    if (Number.isNaN(openedAt)) return `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;
    return clock.format(new Date(openedAt + seconds * 1000));
  }

  function setStatus(text) { $("console-status").textContent = text; }

  function showError(text) {
    const box = $("console-error");
    box.textContent = text;
    box.hidden = false;
    setTimeout(() => { box.hidden = true; }, 8000);
  }

  // ---- languages: one column and one filter box per reading language in use ------------------
  function addLanguage(code) {
    if (!code || languages.includes(code)) return;
    languages.push(code);
    const th = el("th", languageName(code));
    th.scope = "col";
    th.dataset.lang = code;
    th.lang = code;
    columnsRow.append(th);
    const label = el("label", undefined, "check");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = true;
    box.dataset.lang = code;
    box.id = `show-${code}`;
    box.addEventListener("change", () => {
      if (box.checked) hidden.delete(code); else hidden.add(code);
      applyFilter();
    });
    label.append(box, document.createTextNode(` ${languageName(code)}`));
    filter.append(label);
    rows.forEach((entry) => render(entry));
    applyFilter();
  }

  function applyFilter() {
    root.querySelectorAll("[data-lang]").forEach((node) => {
      if (node.tagName === "INPUT") return;
      node.classList.toggle("hidden-language", hidden.has(node.dataset.lang));
    });
    // a row whose original is in a hidden language goes too
    rows.forEach((entry) => {
      entry.row.hidden = hidden.has(entry.caption.lang);
    });
  }

  // ---- rows --------------------------------------------------------------------------------
  function rowFor(m) {
    let entry = rows.get(m.utterance_id);
    if (entry) return entry;
    const row = el("tr");
    row.dataset.utteranceId = m.utterance_id;
    const time = el("td", "", "time");
    const speaker = el("td", "", "speaker");
    const original = el("td", "", "cell-text original");
    row.append(time, speaker, original);
    entry = { row, time, speaker, original, cells: new Map(), caption: m, editing: null };
    rows.set(m.utterance_id, entry);
    // in the order spoken (a late final of an older sentence comes before newer rows)
    const later = Array.from(rows.values()).filter((e) => e !== entry && e.caption.t_start > m.t_start)
      .sort((a, b) => a.caption.t_start - b.caption.t_start)[0];
    if (later) body.insertBefore(row, later.row); else body.append(row);
    return entry;
  }

  function cellFor(entry, lang) {
    let cell = entry.cells.get(lang);
    if (!cell) {
      cell = el("td", "", "cell-text");
      cell.dataset.lang = lang;
      entry.cells.set(lang, cell);
    }
    return cell;
  }

  function onCaption(m) {
    const known = rows.get(m.utterance_id);
    if (known && m.rev <= known.caption.rev) return; // older revision
    if (known && known.caption.final && !m.final) return; // never a partial over a final
    if (m.abandoned || (m.final && !m.text)) {
      if (known) { known.row.remove(); rows.delete(m.utterance_id); }
      return;
    }
    const follow = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 8;
    addLanguage(m.lang);
    Object.keys(m.translations || {}).forEach(addLanguage);
    const entry = rowFor(m);
    const before = entry.caption.translations || {};
    // a partial the engine had no time to translate keeps the previous words of that language
    const translations = m.final ? (m.translations || {}) : { ...before, ...(m.translations || {}) };
    entry.caption = { ...m, translations };
    render(entry);
    applyFilter();
    if (follow) scroller.scrollTop = scroller.scrollHeight;
  }

  function render(entry) {
    const m = entry.caption;
    entry.row.classList.toggle("partial", !m.final);
    entry.time.textContent = wallTime(m.t_start);
    entry.speaker.textContent = m.speaker_name;
    fill(entry, entry.original, m.lang, m.text, "original");
    entry.original.dataset.lang = m.lang;
    const cells = languages.map((lang) => {
      const cell = cellFor(entry, lang);
      if (lang === m.lang) {
        cell.replaceChildren(el("span", t("(original)"), "cell-mark"));
        return cell;
      }
      const done = (m.translations || {})[lang];
      if (done) fill(entry, cell, lang, done.text, done.route);
      else if ((m.no_route || []).includes(lang)) cell.replaceChildren(el("span", t("no translation route"), "cell-mark"));
      else if ((m.pending || []).includes(lang)) cell.replaceChildren(el("span", t("translating…"), "cell-mark"));
      else cell.replaceChildren();
      return cell;
    });
    entry.row.replaceChildren(entry.time, entry.speaker, entry.original, ...cells);
  }

  function fill(entry, cell, lang, text, route) {
    if (entry.editing === lang) return; // the interpreter is typing here: keep their words
    const m = entry.caption;
    cell.lang = lang;
    const words = el("span", text, "words");
    const parts = [words];
    const fix = (m.corrections || {})[lang];
    if (fix) {
      const at = new Date(fix.at);
      parts.push(el("span", t("corrected by %(name)s at %(time)s", { name: fix.by, time: clock.format(at) }), "cell-mark corrected"));
    } else if (!m.final) {
      parts.push(el("span", t("speaking…"), "partial-mark"));
    } else if (route && route !== "original") {
      parts.push(el("span", route === "whisper" ? t("machine (speech)") : t("machine"), "cell-mark"));
    }
    if (m.final) parts.push(editButton(entry, cell, lang, text));
    cell.replaceChildren(...parts);
  }

  function editButton(entry, cell, lang, text) {
    const button = el("button", t("Correct"), "small secondary");
    button.type = "button";
    button.setAttribute("aria-label", t("Correct the %(language)s text of %(name)s's line",
      { language: languageName(lang), name: entry.caption.speaker_name }));
    button.addEventListener("click", () => startEdit(entry, cell, lang, text));
    return button;
  }

  function startEdit(entry, cell, lang, text) {
    entry.editing = lang;
    const form = el("form", undefined, "cell-edit");
    const area = el("textarea");
    area.value = text;
    area.maxLength = 2000;
    area.lang = lang;
    area.setAttribute("aria-label", t("Corrected %(language)s text", { language: languageName(lang) }));
    const save = el("button", t("Save"), "small");
    save.type = "submit";
    const cancel = el("button", t("Cancel"), "small secondary");
    cancel.type = "button";
    form.append(area, save, cancel);
    const stop = () => { entry.editing = null; render(entry); };
    cancel.addEventListener("click", stop);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const value = area.value.trim();
      if (!value) { showError(t("A correction needs some text.")); return; }
      send({ type: "caption.correct", utterance_id: entry.caption.utterance_id, language: lang, text: value });
      stop();
    });
    cell.replaceChildren(form);
    area.focus();
  }

  // ---- socket (page-socket.js: reconnects, notices a dead connection) -----------------------
  const STATUS = {
    connecting: t("Connecting…"), reconnecting: t("Reconnecting…"), connected: t("Connected"),
    lost: t("Connection lost — reconnecting…"),
  };

  function send(message) {
    if (socket.send(message)) return true;
    showError(t("Not connected: try again in a moment."));
    return false;
  }

  const handlers = {
    welcome(m) {
      if (!m.permissions.includes("use_interpreter_console")) {
        finish(t("The interpreter's console is for the session's interpreters."));
        return;
      }
      if (m.admission === "admitted") send({ type: "captions.sync", limit: 500 });
    },
    "lobby.admitted"() { send({ type: "captions.sync", limit: 500 }); },
    presence(m) {
      m.participants.forEach((p) => addLanguage(p.reading_language || p.language));
    },
    caption: onCaption,
    "captions.history"(m) { m.captions.forEach(onCaption); },
    error(m) { showError(t(m.message)); },
    "room.ended"(m) { finish(t(m.message)); },
    "participant.removed"(m) { finish(t(m.message)); },
  };

  const socket = window.CounselSocket.open({
    roomId, token: root.dataset.token,
    onMessage: (m) => { const handler = handlers[m.type]; if (handler) handler(m); },
    onStatus: (status) => setStatus(STATUS[status]),
    onFinal: setStatus,
    closedMessage: t("This session is closed."),
    expiredMessage: t("Please sign in again."),
  });
  const finish = socket.finish;
})();
