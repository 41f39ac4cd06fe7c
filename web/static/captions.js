// Counsel Room: the caption strip of the room page. room.js dispatches "room:message" on #room
// for every server message; this module renders `caption` messages into #captions (one line
// per speaker: the last final text, then the growing partial in grey) and shows whether
// captions are on (someone in the room consented to transcription, from `presence`). Each
// person sets their own consent here too ("Caption what I say"; staff, who are not asked on
// a join page, are asked once): `consent.set` starts or stops the captions of their voice.
"use strict";
(function () {
  const root = document.getElementById("room");
  const strip = document.getElementById("captions");
  if (!root || !strip) return;
  const me = root.dataset.participantId;
  const send = (message) => root.dispatchEvent(new CustomEvent("room:send", { detail: message }));

  const SIZE_KEY = "counsel.captionSize";
  const SIZES = [0.875, 1, 1.25, 1.5, 1.75, 2, 2.5];
  const lines = new Map(); // speaker_id -> {line, finalText, partialText, seq}
  let available = true; // the server can caption (welcome.captions_available)

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  // ---- toolbar: status and size buttons, just before the strip ------------------------------
  const bar = el("div", undefined, "captions-bar");
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", "Captions");
  const status = el("span", "Captions off", "captions-status");
  status.id = "captions-status";
  status.setAttribute("role", "status");
  const smaller = el("button", "A−", "small secondary");
  const larger = el("button", "A+", "small secondary");
  smaller.type = larger.type = "button";
  smaller.id = "captions-smaller";
  larger.id = "captions-larger";
  smaller.setAttribute("aria-label", "Smaller captions");
  larger.setAttribute("aria-label", "Larger captions");
  const consentLabel = el("label", undefined, "check captions-consent");
  const consentBox = document.createElement("input");
  consentBox.type = "checkbox";
  consentBox.id = "captions-consent";
  consentLabel.append(consentBox, document.createTextNode(" Caption what I say"));
  bar.append(status, smaller, larger, consentLabel);

  // asked once of whoever has not answered yet (staff entering their room)
  const ask = el("div", undefined, "captions-ask");
  ask.id = "captions-ask";
  ask.hidden = true;
  const question = el("p", "Live captions: may this session transcribe and translate what you say?");
  question.id = "captions-ask-text";
  const yes = el("button", "Yes, caption me", "small");
  const no = el("button", "No", "small secondary");
  yes.type = no.type = "button";
  ask.setAttribute("role", "group");
  ask.setAttribute("aria-labelledby", question.id);
  ask.append(question, yes, no);
  strip.before(bar, ask);

  function setConsent(value) {
    send({ type: "consent.set", transcription: value });
  }
  function showConsent(value) {
    consentBox.checked = value === true;
    ask.hidden = !available || (value !== null && value !== undefined);
  }
  consentBox.addEventListener("change", () => setConsent(consentBox.checked));
  yes.addEventListener("click", () => { setConsent(true); ask.hidden = true; consentBox.focus(); });
  no.addEventListener("click", () => { setConsent(false); ask.hidden = true; consentBox.focus(); });
  strip.setAttribute("aria-live", "polite");
  strip.setAttribute("aria-relevant", "additions text");

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
  function lineFor(m) {
    let entry = lines.get(m.speaker_id);
    if (!entry) {
      const line = el("p", undefined, "caption-line");
      line.dataset.speakerId = m.speaker_id;
      const who = el("span", `${m.speaker_name}: `, "caption-speaker");
      const final = el("span", "", "final");
      const partial = el("span", "", "partial");
      // screen readers hear finals only, not every partial revision
      partial.setAttribute("aria-hidden", "true");
      line.append(who, final, partial);
      strip.append(line);
      entry = { line, who, final, partial, seq: 0 };
      lines.set(m.speaker_id, entry);
    }
    return entry;
  }

  function onCaption(m) {
    const entry = lineFor(m);
    if (m.seq <= entry.seq) return; // a late, older event
    entry.seq = m.seq;
    entry.who.textContent = `${m.speaker_name}: `;
    entry.line.lang = m.lang || "";
    if (m.final) {
      entry.final.textContent = m.text;
      entry.partial.textContent = "";
    } else {
      entry.partial.textContent = (entry.final.textContent ? " " : "") + m.text;
    }
    strip.append(entry.line); // the latest speaker last
  }

  function onPresence(m) {
    const consenting = m.participants.filter((p) => p.transcription_consent === true);
    const mine = m.participants.find((p) => p.id === me);
    if (mine) showConsent(mine.transcription_consent);
    // a speaker who withdrew consent: their unfinished sentence is not coming
    const ids = new Set(consenting.map((p) => p.id));
    lines.forEach((entry, speaker) => { if (!ids.has(speaker)) entry.partial.textContent = ""; });
    const on = available && consenting.length > 0;
    if (!available) status.textContent = "Captions unavailable on this server";
    else if (on) status.textContent = `Captions on (${consenting.map((p) => p.name).join(", ")})`;
    else status.textContent = "Captions off: nobody has agreed to transcription";
    status.classList.toggle("on", on);
  }

  root.addEventListener("room:message", (ev) => {
    const m = ev.detail;
    if (!m) return;
    if (m.type === "caption") onCaption(m);
    else if (m.type === "presence") onPresence(m);
    else if (m.type === "welcome") {
      available = m.captions_available !== false;
      if (m.admission === "admitted") showConsent(m.you.transcription_consent);
    }
  });

  root.addEventListener("room:closed", () => {
    lines.clear();
    strip.replaceChildren();
  });
})();
