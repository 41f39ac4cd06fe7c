// Counsel Room: the caption strip of the room page. room.js dispatches "room:message" on #room
// for every server message; this module renders `caption` messages into #captions and shows
// whether captions are on (someone in the room consented to transcription, from `presence`;
// "starting" while the server loads its speech model). Each caption message is one revision
// of one utterance (`utterance_id`, `rev`): a line per utterance, a speaker's last few lines
// together in the order they were spoken (`t_start`), the growing partial in grey until the
// final text replaces it; an `abandoned` utterance (consent withdrawn mid-sentence) loses its
// partial. Each person sets their own consent here too ("Caption what I say"; staff, who are
// not asked on a join page, are asked once): `consent.set` starts or stops the captions of
// their voice. Captions reach each reader in their reading language (`root.dataset.reading`,
// kept by room.js): the machine translation, marked so, with the original shown beside it by
// the "Show original" switch; a language the server cannot translate into gets a note. An
// interpreter's correction (`corrections` names the language) replaces the machine text and is
// marked "corrected by the interpreter"; its revision numbers outrank the recognizer's.
// The strip lies over the video and keeps a few lines; every final line also goes into the
// captions sheet's history (#caption-history, the whole session so far, scrollable) and is
// announced once through room.js's live region (the strip itself is not a live region, so
// screen readers do not hear partials, or a name twice). The toolbar (status, size, consent,
// originals) sits in the captions sheet; the consent question over the video.
"use strict";
(function () {
  const root = document.getElementById("room");
  const strip = document.getElementById("captions");
  if (!root || !strip) return;
  const me = root.dataset.participantId;
  const send = (message) => root.dispatchEvent(new CustomEvent("room:send", { detail: message }));

  const SIZE_KEY = "counsel.captionSize";
  const SIZES = [0.875, 1, 1.25, 1.5, 1.75, 2, 2.5];
  const KEEP_LINES = 3; // per speaker
  const speakers = new Map(); // speaker_id -> {group, lines: [entry] ordered by t_start}
  const revs = new Map(); // utterance_id -> the highest rev shown (kept after its line goes)
  let captionsState = "ready"; // the server's captions: "starting", "ready" or "unavailable"
  let available = true; // the server can caption (not "unavailable")
  let consenting = null; // from the latest presence: who is transcribed
  let captionLanguages = null; // spoken languages the server captions (null: any)
  let languageNames = {};
  try { languageNames = JSON.parse(root.dataset.languages || "{}"); } catch (e) { /* none */ }
  const languageName = (code) => languageNames[code] || code;
  const reading = () => root.dataset.reading || "";

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  // ---- toolbar: status and size buttons, just before the strip ------------------------------
  const bar = el("div", undefined, "captions-bar");
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", t("Caption settings"));
  const status = el("span", t("Captions off"), "captions-status");
  status.id = "captions-status";
  status.setAttribute("role", "status");
  const smaller = el("button", "A−", "small secondary");
  const larger = el("button", "A+", "small secondary");
  smaller.type = larger.type = "button";
  smaller.id = "captions-smaller";
  larger.id = "captions-larger";
  smaller.setAttribute("aria-label", t("Smaller captions"));
  larger.setAttribute("aria-label", t("Larger captions"));
  const consentLabel = el("label", undefined, "check captions-consent");
  const consentBox = document.createElement("input");
  consentBox.type = "checkbox";
  consentBox.id = "captions-consent";
  consentLabel.append(consentBox, document.createTextNode(` ${t("Caption what I say")}`));
  const originalLabel = el("label", undefined, "check captions-original");
  const originalBox = document.createElement("input");
  originalBox.type = "checkbox";
  originalBox.id = "captions-show-original";
  originalLabel.append(originalBox, document.createTextNode(` ${t("Show original")}`));
  originalBox.addEventListener("change", () => {
    strip.classList.toggle("with-original", originalBox.checked);
    if (history) history.classList.toggle("with-original", originalBox.checked);
    strip.scrollTop = strip.scrollHeight; // the originals make the lines taller
  });
  const unsupported = el("p", "", "captions-note");
  unsupported.id = "captions-unsupported";
  unsupported.hidden = true;
  bar.append(status, smaller, larger, consentLabel, originalLabel, unsupported);

  // asked once of whoever has not answered yet (staff entering their room)
  const ask = el("div", undefined, "captions-ask");
  ask.id = "captions-ask";
  ask.hidden = true;
  const question = el("p", t("Live captions: may this session transcribe and translate what you say?"));
  question.id = "captions-ask-text";
  const yes = el("button", t("Yes, caption me"), "small");
  const no = el("button", t("No"), "small secondary");
  yes.type = no.type = "button";
  ask.setAttribute("role", "group");
  ask.setAttribute("aria-labelledby", question.id);
  ask.append(question, yes, no);
  const tools = document.getElementById("captions-tools");
  const askSlot = document.getElementById("captions-ask-slot");
  const history = document.getElementById("caption-history");
  if (tools) tools.append(bar); else strip.before(bar);
  if (askSlot) askSlot.append(ask); else strip.before(ask);
  // after answering, keyboard users go on from the captions button (the toolbar is in its sheet)
  const afterAnswer = document.getElementById("captions-toggle") || consentBox;
  const announce = (text) => root.dispatchEvent(new CustomEvent("room:announce", { detail: text }));

  function setConsent(value) {
    send({ type: "consent.set", transcription: value });
  }
  function showConsent(value) {
    consentBox.checked = value === true;
    ask.hidden = !available || (value !== null && value !== undefined);
  }
  consentBox.addEventListener("change", () => setConsent(consentBox.checked));
  yes.addEventListener("click", () => { setConsent(true); ask.hidden = true; afterAnswer.focus(); });
  no.addEventListener("click", () => { setConsent(false); ask.hidden = true; afterAnswer.focus(); });
  strip.setAttribute("aria-live", "off");

  function storedSize() {
    try {
      const value = Number(localStorage.getItem(SIZE_KEY));
      return SIZES.includes(value) ? value : 1.25;
    } catch (e) { return 1.25; }
  }

  function applySize(size) {
    strip.style.setProperty("--caption-size", `${size}rem`);
    strip.dataset.size = String(size);
    smaller.disabled = size <= SIZES[0];
    larger.disabled = size >= SIZES[SIZES.length - 1];
    try { localStorage.setItem(SIZE_KEY, String(size)); } catch (e) { /* private mode */ }
  }

  function step(direction) {
    const index = SIZES.indexOf(storedSize());
    const next = SIZES[Math.min(SIZES.length - 1, Math.max(0, index + direction))];
    applySize(next);
  }

  smaller.addEventListener("click", () => step(-1));
  larger.addEventListener("click", () => step(1));
  applySize(storedSize());

  // ---- captions ------------------------------------------------------------------------------
  function groupFor(m) {
    let speaker = speakers.get(m.speaker_id);
    if (!speaker) {
      const group = el("div", undefined, "caption-group");
      group.dataset.speakerId = m.speaker_id;
      strip.append(group);
      speaker = { group, lines: [] };
      speakers.set(m.speaker_id, speaker);
    }
    return speaker;
  }

  function lineFor(speaker, m) {
    let entry = speaker.lines.find((e) => e.id === m.utterance_id);
    if (entry) return entry;
    const line = el("p", undefined, "caption-line");
    line.dataset.speakerId = m.speaker_id;
    line.dataset.utteranceId = m.utterance_id;
    const who = el("span", `${m.speaker_name}: `, "caption-speaker");
    const final = el("span", "", "final");
    const partial = el("span", "", "partial");
    // screen readers hear finals only, not every partial revision
    partial.setAttribute("aria-hidden", "true");
    const note = el("span", "", "caption-note");
    const original = el("span", "", "caption-original");
    line.append(who, final, partial, note, original);
    entry = { id: m.utterance_id, line, who, final, partial, note, original, done: false,
      tStart: m.t_start };
    // a speaker's lines in the order they were spoken (a stream that ended late comes earlier)
    const next = speaker.lines.findIndex((e) => e.tStart > m.t_start);
    if (next < 0) {
      speaker.lines.push(entry);
      speaker.group.append(line);
    } else {
      speaker.group.insertBefore(line, speaker.lines[next].line);
      speaker.lines.splice(next, 0, entry);
    }
    return entry;
  }

  function removeLine(speaker, entry) {
    entry.line.remove();
    speaker.lines.splice(speaker.lines.indexOf(entry), 1);
    if (!speaker.lines.length) {
      speaker.group.remove();
      speakers.delete(entry.line.dataset.speakerId);
    }
  }

  function trim(speaker) {
    // the oldest finished lines go first; a sentence still being spoken stays
    while (speaker.lines.length > KEEP_LINES) {
      const oldest = speaker.lines.find((e) => e.done) || speaker.lines[0];
      removeLine(speaker, oldest);
    }
  }

  function onCaption(m) {
    if (m.rev <= (revs.get(m.utterance_id) || 0)) return; // a late, older revision
    const speaker = speakers.get(m.speaker_id);
    const known = speaker && speaker.lines.find((e) => e.id === m.utterance_id);
    if (known && known.done && !m.final) return; // a final is never replaced by a partial
    if (!known && revs.has(m.utterance_id) && !m.final) return; // its line is gone already
    revs.set(m.utterance_id, m.rev);
    if (m.abandoned) {
      if (known) removeLine(speaker, known); // that sentence will get no final
      return;
    }
    if (m.final && !m.text) { // nothing was said after all: the partials go
      if (known) removeLine(speaker, known);
      return;
    }
    const shown = inReadingLanguage(m);
    if (!shown) return; // a partial not translated for this reader: the next one will be
    // the newest words stay in view, unless the reader scrolled back to read older ones
    const follow = strip.scrollHeight - strip.scrollTop - strip.clientHeight < 8;
    const owner = groupFor(m);
    const entry = lineFor(owner, m);
    entry.who.textContent = `${m.speaker_name}: `;
    entry.line.lang = shown.lang;
    entry.note.textContent = shown.note ? ` (${shown.note})` : "";
    entry.original.textContent = shown.original ? ` — ${shown.original}` : "";
    entry.original.lang = m.lang || "";
    entry.line.classList.toggle("translated", Boolean(shown.original));
    entry.line.classList.toggle("corrected", Boolean(shown.corrected));
    if (m.final) {
      if (!entry.done && !replaying) announce(`${m.speaker_name}: ${shown.text}`);
      entry.done = true;
      entry.final.textContent = shown.text;
      entry.partial.textContent = "";
      remember(m, shown);
    } else {
      entry.partial.textContent = shown.text;
    }
    trim(owner);
    if (strip.lastElementChild !== owner.group) strip.append(owner.group); // latest speaker last
    if (follow) strip.scrollTop = strip.scrollHeight;
  }

  // ---- the history: every final line of the session, in the order spoken ---------------------
  let replaying = false; // captions.history: shown, not announced again
  const kept = new Map(); // utterance_id -> {item, tStart}

  function remember(m, shown) {
    if (!history) return;
    let entry = kept.get(m.utterance_id);
    if (!entry) {
      const item = el("li", undefined, "caption-line");
      item.dataset.utteranceId = m.utterance_id;
      entry = { item, tStart: m.t_start };
      kept.set(m.utterance_id, entry);
      const later = [...kept.values()].filter((e) => e !== entry && e.tStart > m.t_start)
        .sort((a, b) => a.tStart - b.tStart)[0];
      const follow = history.scrollHeight - history.scrollTop - history.clientHeight < 8;
      history.insertBefore(item, later ? later.item : null);
      if (follow) history.scrollTop = history.scrollHeight;
    }
    entry.item.lang = shown.lang;
    entry.item.replaceChildren(
      el("time", clock(m.t_start)), el("span", `${m.speaker_name}: `, "caption-speaker"),
      el("span", shown.text, "final"),
      el("span", shown.note ? ` (${shown.note})` : "", "caption-note"),
      el("span", shown.original ? ` — ${shown.original}` : "", "caption-original"));
  }

  // seconds on the session's clock as m:ss (h:mm:ss past an hour)
  function clock(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    const two = (n) => String(n).padStart(2, "0");
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    return h ? `${h}:${two(m)}:${two(total % 60)}` : `${m}:${two(total % 60)}`;
  }

  // What this reader sees of a caption: their own words and words already in their language as
  // they are; others in the machine translation (the original kept for "Show original"), or
  // the original with a note when the server cannot translate into their language.
  function inReadingLanguage(m) {
    const want = reading();
    const fixes = m.corrections || {};
    if (m.speaker_id === me || !want || !m.lang || m.lang === want) {
      return { text: m.text, lang: m.lang || "", note: correctedNote(fixes[m.lang]),
        corrected: Boolean(fixes[m.lang]) };
    }
    const translated = (m.translations || {})[want];
    if (translated) {
      const how = fixes[want] ? correctedNote(fixes[want])
        : translated.route === "whisper" ? t("machine translation of the speech")
          : t("machine translation");
      return { text: translated.text, lang: want, original: m.text, note: how,
        corrected: Boolean(fixes[want]) };
    }
    if ((m.no_route || []).includes(want)) {
      return { text: m.text, lang: m.lang,
        note: t("no translation into %(language)s", { language: languageName(want) }) };
    }
    if (!m.final) return null;
    const note = (m.pending || []).includes(want) ? t("translating…") : t("not translated");
    return { text: m.text, lang: m.lang, note };
  }

  // An interpreter's correction replaced the machine text (or the recognized original).
  function correctedNote(fix) {
    if (!fix) return "";
    return fix.by ? t("corrected by the interpreter, %(name)s", { name: fix.by })
      : t("corrected by the interpreter");
  }

  function renderUnsupported() {
    const missing = (consenting || []).filter((p) => captionLanguages && p.language
      && !captionLanguages.includes(p.language));
    const names = [...new Set(missing.map((p) => languageName(p.language)))];
    unsupported.hidden = !available || names.length === 0;
    unsupported.textContent = names.length
      ? t("Captions in %(languages)s are not available on this server.", { languages: names.join(", ") })
      : "";
  }

  function renderStatus() {
    renderUnsupported();
    const names = (consenting || []).map((p) => p.name);
    const on = captionsState === "ready" && names.length > 0;
    if (captionsState === "unavailable") status.textContent = t("Captions unavailable on this server");
    else if (captionsState === "starting") status.textContent = t("Captions starting…");
    else if (on) status.textContent = t("Captions on (%(names)s)", { names: names.join(", ") });
    else status.textContent = t("Captions off: nobody has agreed to transcription");
    status.classList.toggle("on", on);
  }

  function setCaptionsState(value) {
    captionsState = value;
    available = value !== "unavailable";
    if (!available) ask.hidden = true; // nothing to agree to on this server
    renderStatus();
  }

  function onPresence(m) {
    consenting = m.participants.filter((p) => p.transcription_consent === true);
    const mine = m.participants.find((p) => p.id === me);
    if (mine) showConsent(mine.transcription_consent);
    // a speaker who withdrew consent: their unfinished sentences are not coming
    const ids = new Set(consenting.map((p) => p.id));
    speakers.forEach((speaker, id) => {
      if (!ids.has(id)) speaker.lines.filter((e) => !e.done).forEach((e) => removeLine(speaker, e));
    });
    renderStatus();
  }

  root.addEventListener("room:message", (ev) => {
    const m = ev.detail;
    if (!m) return;
    if (m.type === "caption") onCaption(m);
    else if (m.type === "captions.history") {
      replaying = true;
      try { m.captions.forEach(onCaption); } finally { replaying = false; }
    }
    else if (m.type === "presence") onPresence(m);
    else if (m.type === "captions.status") setCaptionsState(m.state);
    else if (m.type === "welcome") {
      captionLanguages = m.captions_languages || null;
      setCaptionsState(m.captions_state || (m.captions_available === false ? "unavailable" : "ready"));
      if (m.admission === "admitted") {
        showConsent(m.you.transcription_consent);
        // back after a reload or a lost connection: the latest finals as they are now, with
        // the interpreter's corrections made meanwhile (a line keeps its highest `rev`)
        send({ type: "captions.sync", limit: 200 });
      }
    }
  });

  // a new reading language: the lines shown so far were in the old one
  root.addEventListener("room:reading", () => {
    speakers.clear();
    strip.replaceChildren();
    kept.clear();
    if (history) history.replaceChildren();
  });

  root.addEventListener("room:closed", () => {
    speakers.clear();
    revs.clear();
    strip.replaceChildren();
    kept.clear();
    if (history) history.replaceChildren();
  });
})();
