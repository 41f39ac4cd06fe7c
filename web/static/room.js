// Counsel Room: the room page's single WebSocket (lobby, presence, chat) with reconnect.
"use strict";
(function () {
  const root = document.getElementById("room");
  if (!root) return;
  const roomId = root.dataset.roomId;
  const me = root.dataset.participantId;
  const $ = (id) => document.getElementById(id);
  const state = {
    token: root.dataset.token, lastSeq: 0, seen: new Set(), outbox: new Map(),
    admitted: false, permissions: new Set(), reading: root.dataset.reading || "",
  };
  let languageNames = {};
  try { languageNames = JSON.parse(root.dataset.languages || "{}"); } catch (e) { /* none */ }
  const languageName = (code) => languageNames[code] || code;

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function setStatus(text) { $("conn-status").textContent = text; }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  const STATUS = {
    connecting: "Connecting…", reconnecting: "Reconnecting…", connected: "Connected",
    lost: "Connection lost — reconnecting…",
  };
  const socket = window.CounselSocket.open({
    roomId, token: state.token,
    query: () => ({ after_seq: String(state.lastSeq) }),
    onMessage,
    onStatus: (status) => setStatus(STATUS[status]),
    onDisconnected: () => root.dispatchEvent(new CustomEvent("room:disconnected")),
    onFinal: finish,
    closedMessage: "This session is closed.",
    expiredMessage: "Please open your invitation link again.",
  });
  const send = socket.send;

  function finish(message) {
    root.dispatchEvent(new CustomEvent("room:closed"));
    $("final-message").textContent = message;
    $("final").hidden = false;
    $("stage").hidden = true;
    $("lobby").hidden = true;
    setStatus("Disconnected");
    $("final").focus && $("final").setAttribute("tabindex", "-1");
  }

  function showAdmitted(admitted) {
    state.admitted = admitted;
    $("lobby").hidden = admitted;
    $("stage").hidden = !admitted;
    $("waiting-panel").hidden = !(admitted && state.permissions.has("see_waiting_list"));
    $("chat-form").hidden = !state.permissions.has("send_chat");
    if (admitted) flushOutbox();
  }

  const handlers = {
    welcome(m) {
      state.permissions = new Set(m.permissions);
      showConsoleLink();
      renderRoom(m.room);
      showAdmitted(m.admission === "admitted");
    },
    "lobby.waiting"(m) { $("lobby-message").textContent = m.message; showAdmitted(false); },
    "lobby.note"(m) {
      if (!state.admitted) $("lobby-notes").append(el("li", `${m.from_name}: ${m.text}`));
    },
    "lobby.admitted"(m) { if (m.participant_id === me) { showAdmitted(true); $("chat-input").focus(); } },
    "lobby.denied"(m) { finish(m.message); },
    "participant.removed"(m) { finish(m.message); },
    "room.ended"(m) { finish(m.message); },
    "room.state"(m) { renderRoom(m.room); },
    presence(m) { followReadingLanguage(m.participants); renderPeople(m.participants); },
    "lobby.waiting_list"(m) { renderWaiting(m.waiting); },
    "chat.history"(m) { m.messages.forEach(addChat); },
    "chat.message"(m) { addChat(m.message); },
    "chat.ack"(m) { state.outbox.delete(m.client_id); markDelivered(m.client_id); },
    error(m) { showError(m); },
    pong() {},
  };

  function onMessage(m) {
    const handler = handlers[m.type];
    if (handler) handler(m);
    // media.js listens for the socket's messages and sends its own through "room:send"
    root.dispatchEvent(new CustomEvent("room:message", { detail: m }));
  }

  root.addEventListener("room:send", (ev) => { send(ev.detail); });

  function renderRoom(room) {
    const badge = $("room-state");
    badge.textContent = room.status;
    badge.className = `badge status-${room.status}`;
    $("auto-admit").checked = room.auto_admit;
  }

  function renderPeople(people) {
    const list = $("people");
    list.replaceChildren(...people.map((p) => {
      const consent = p.transcription_consent === true ? "captions on"
        : p.transcription_consent === false ? "not transcribed" : "captions: not asked";
      const who = p.role === "interpreter" ? interpreterLabel(p) : p.role;
      const item = el("li", `${p.name} (${who}, ${consent})${p.online ? "" : " — away"}`);
      if (p.role === "interpreter") item.classList.add("interpreter");
      if (p.id === me) item.append(el("span", " (you)", "muted"));
      if (state.permissions.has("remove_participant") && p.id !== me && p.role !== "host") {
        const btn = el("button", "Remove", "small secondary");
        btn.type = "button";
        btn.setAttribute("aria-label", `Remove ${p.name}`);
        btn.addEventListener("click", () => send({ type: "participant.remove", participant_id: p.id }));
        item.append(" ", btn);
      }
      return item;
    }));
  }

  // Everyone sees that an interpreter is present, and for which languages.
  function interpreterLabel(p) {
    const codes = p.interprets && p.interprets.length ? p.interprets
      : [...new Set([p.language, p.reading_language].filter(Boolean))];
    const names = codes.map(languageName).join(", ");
    return names ? `interpreter: ${names}` : "interpreter";
  }

  // Interpreters get a link to their console (every language side by side), in a new tab:
  // they keep hearing the room on this page while they read and correct there.
  function showConsoleLink() {
    if (!state.permissions.has("use_interpreter_console") || $("console-link")) return;
    const link = el("a", "Interpreter console (new tab)");
    link.id = "console-link";
    link.href = `/rooms/${encodeURIComponent(roomId)}/interpret`;
    link.target = "_blank";
    link.rel = "noopener";
    document.querySelector(".room-head .status-line").append(link);
  }

  // Each waiting person keeps their list item (and its buttons) across updates: a list rebuilt on
  // every update swallowed a click that landed while it was rebuilt, and lost the keyboard focus.
  function renderWaiting(waiting) {
    $("waiting-count").textContent = String(waiting.length);
    const list = $("waiting");
    const kept = new Map([...list.children].map((li) => [li.dataset.participantId, li]));
    const items = waiting.map((p) => {
      const item = kept.get(p.id) || waitingItem(p);
      item.querySelector(".waiting-who").textContent = waitingLabel(p);
      return item;
    });
    [...list.children].forEach((li) => { if (!items.includes(li)) li.remove(); });
    items.forEach((item, index) => {
      if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
    });
  }

  function waitingLabel(p) {
    return `${p.name} (${p.role}, ${p.language || "?"})${p.online ? "" : " — offline"}`;
  }

  function waitingItem(p) {
    const item = el("li", undefined, "waiting-person");
    item.dataset.participantId = p.id;
    item.append(el("span", waitingLabel(p), "waiting-who"));
    const admit = el("button", "Admit", "small");
    admit.type = "button";
    admit.setAttribute("aria-label", `Admit ${p.name}`);
    admit.addEventListener("click", () => send({ type: "lobby.admit", participant_id: p.id }));
    const deny = el("button", "Deny", "small danger");
    deny.type = "button";
    deny.setAttribute("aria-label", `Deny ${p.name}`);
    deny.addEventListener("click", () => send({ type: "lobby.deny", participant_id: p.id }));
    const form = el("form", undefined, "note-form");
    const input = el("input");
    input.maxLength = 1000;
    input.placeholder = "Message to this person";
    input.setAttribute("aria-label", `Message to ${p.name}`);
    form.append(input, Object.assign(el("button", "Send", "small secondary"), { type: "submit" }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (input.value.trim()) send({ type: "lobby.message", participant_id: p.id, text: input.value.trim() });
      input.value = "";
    });
    item.append(admit, deny, form);
    return item;
  }

  // A message in the reader's language: their own words and messages already in it as they
  // are; others as the machine translation, marked so, with the original one tap away.
  function chatBody(msg) {
    const original = el("p", msg.text, "chat-text");
    if (msg.lang) original.lang = msg.lang;
    if (msg.sender_id === me || !state.reading || !msg.lang || msg.lang === state.reading) {
      return [original];
    }
    const translated = msg.translations && msg.translations[state.reading];
    if (!translated) {
      const note = (msg.no_route || []).includes(state.reading)
        ? `No translation into ${languageName(state.reading)} on this server`
        : `Not translated into ${languageName(state.reading)}`;
      return [original, el("p", note, "translation-note")];
    }
    const text = el("p", translated.text, "chat-text");
    text.lang = state.reading;
    const details = el("details", undefined, "original");
    details.append(el("summary", `Machine translation from ${languageName(msg.lang)} · show original`));
    details.append(original);
    return [text, details];
  }

  function addChat(msg) {
    if (state.seen.has(msg.seq)) return;
    state.seen.add(msg.seq);
    state.lastSeq = Math.max(state.lastSeq, msg.seq);
    const pending = document.querySelector(`[data-client-id="${CSS.escape(msg.client_id)}"]`);
    if (pending && msg.sender_id === me) pending.remove();
    const item = el("li", undefined, msg.sender_id === me ? "mine" : "");
    item.dataset.seq = String(msg.seq);
    const time = new Date(msg.sent_at);
    // the sender's role beside their name: a guest cannot pass for the counselor
    item.append(el("strong", msg.sender_name), " ",
      el("span", `(${msg.sender_role})`, "chat-role muted"), " ",
      el("time", time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })),
      ...chatBody(msg));
    insertBySeq(item, msg.seq);
  }

  // The reading language changed (here or on another page of mine): the server has translated
  // the chat so far; show it again in the new language.
  function followReadingLanguage(people) {
    const mine = people.find((p) => p.id === me);
    if (!mine || !mine.reading_language || mine.reading_language === state.reading) return;
    state.reading = mine.reading_language;
    $("reading-select").value = state.reading;
    root.dataset.reading = state.reading;
    root.dispatchEvent(new CustomEvent("room:reading", { detail: state.reading }));
    $("chat-log").querySelectorAll("li[data-seq]").forEach((li) => li.remove());
    state.seen.clear();
    send({ type: "chat.sync", after_seq: 0 });
  }

  function insertBySeq(item, seq) {
    const log = $("chat-log");
    const after = Array.from(log.querySelectorAll("li[data-seq]")).find((li) => Number(li.dataset.seq) > seq);
    if (after) log.insertBefore(item, after); else log.append(item);
    const pendings = log.querySelectorAll("li.pending");
    pendings.forEach((p) => log.append(p));
    log.scrollTop = log.scrollHeight;
  }

  function markDelivered(clientId) {
    const pending = document.querySelector(`[data-client-id="${CSS.escape(clientId)}"]`);
    if (pending) pending.classList.remove("pending");
  }

  // Messages not yet acknowledged are sent again (the server keeps one per client id): after
  // a reconnect or admission, and every RESEND_MS while one waits (refused for a passing
  // reason, such as a rate limit, or lost with a dead connection).
  const RESEND_MS = 4000;

  function sendChat(clientId, entry) {
    entry.at = Date.now();
    send({ type: "chat.send", client_id: clientId, text: entry.text });
  }

  function flushOutbox(olderThan = 0) {
    if (!state.admitted) return;
    const now = Date.now();
    for (const [clientId, entry] of state.outbox) {
      if (now - entry.at >= olderThan) sendChat(clientId, entry);
    }
  }

  function showError(m) {
    const box = $("chat-error");
    box.textContent = m.message;
    box.hidden = false;
    setTimeout(() => { box.hidden = true; }, 6000);
  }

  $("chat-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("chat-input");
    const text = input.value.trim();
    if (!text) return;
    const clientId = newId();
    const entry = { text, at: 0 };
    state.outbox.set(clientId, entry);
    const item = el("li", undefined, "mine pending");
    item.dataset.clientId = clientId;
    item.append(el("strong", "You"), " ", el("span", "sending…", "muted"), el("p", text));
    $("chat-log").append(item);
    sendChat(clientId, entry);
    input.value = "";
  });

  $("chat-input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("chat-form").requestSubmit(); }
  });

  $("reading-select").addEventListener("change", (ev) => {
    send({ type: "reading.set", language: ev.target.value });
  });

  $("auto-admit").addEventListener("change", (ev) => {
    send({ type: "room.set_auto_admit", enabled: ev.target.checked });
  });

  setInterval(() => flushOutbox(RESEND_MS), RESEND_MS);
})();
