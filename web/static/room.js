// Counsel Room: the room page's single WebSocket (lobby, presence, chat) with reconnect, and the
// page's frame: the sheets (chat, people, captions, settings) opened from the control bar, the
// lobby's facts, the host's waiting notice and chime, and the confirmations (leave, end, deny,
// remove). Other modules speak to the socket through "room:message"/"room:send" on #room, and
// announce through "room:announce" (one polite live region: each line is read once).
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

  // ---- one polite live region for the whole page: each chat message and caption once --------
  function announce(text) {
    const region = $("announcer");
    const line = document.createElement("p");
    line.textContent = text;
    region.append(line);
    while (region.children.length > 5) region.firstElementChild.remove();
  }
  root.addEventListener("room:announce", (ev) => announce(ev.detail));

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  const STATUS = {
    connecting: t("Connecting…"), reconnecting: t("Reconnecting…"), connected: t("Connected"),
    lost: t("Connection lost — reconnecting…"),
  };
  const socket = window.CounselSocket.open({
    roomId, token: state.token,
    query: () => ({ after_seq: String(state.lastSeq) }),
    onMessage,
    onStatus: (status) => setStatus(STATUS[status]),
    onDisconnected: () => root.dispatchEvent(new CustomEvent("room:disconnected")),
    onFinal: finish,
    closedMessage: t("This session is closed."),
    expiredMessage: t("Please open your invitation link again."),
  });
  const send = socket.send;

  function finish(message) {
    root.dispatchEvent(new CustomEvent("room:closed"));
    closeSheet(false);
    $("stage").hidden = true;
    $("settings-toggle").hidden = true;
    $("lobby").hidden = true;
    setStatus(t("Disconnected"));
    if (state.left) {
      $("left").hidden = false;
      $("left-title").focus();
      return;
    }
    $("final-message").textContent = message;
    $("final").hidden = false;
    $("final").setAttribute("tabindex", "-1");
  }

  function showAdmitted(admitted) {
    const entering = admitted && !state.admitted;
    const focusWasInLobby = $("lobby").contains(document.activeElement);
    state.admitted = admitted;
    $("lobby").hidden = admitted;
    $("stage").hidden = !admitted;
    $("settings-toggle").hidden = !admitted; // its sheet belongs to the call
    $("waiting-panel").hidden = !(admitted && state.permissions.has("see_waiting_list"));
    $("chat-form").hidden = !state.permissions.has("send_chat");
    if (admitted) flushOutbox();
    if (entering && wide.matches && !openSheetId) openSheet("sheet-chat", false);
    // keyboard users land on the controls, and the video stays in view (nothing scrolls)
    if (entering && (focusWasInLobby || document.activeElement === document.body)) {
      const first = [...$("control-bar").querySelectorAll("button")].find((b) => !b.disabled);
      if (first) first.focus({ preventScroll: true });
    }
  }

  const handlers = {
    welcome(m) {
      state.permissions = new Set(m.permissions);
      showConsoleLink();
      renderRoom(m.room);
      showAdmitted(m.admission === "admitted");
    },
    // the page's own words (in its language; they say who admits and when, not "shortly")
    "lobby.waiting"() { showAdmitted(false); },
    "lobby.note"(m) {
      if (!state.admitted) $("lobby-notes").append(el("li", `${m.from_name}: ${m.text}`));
    },
    "lobby.admitted"(m) { if (m.participant_id === me) showAdmitted(true); },
    "lobby.denied"(m) { finish(m.message); },
    "participant.removed"(m) { finish(m.message); },
    "room.ended"(m) { finish(m.message); },
    "room.state"(m) { renderRoom(m.room); },
    presence(m) { followReadingLanguage(m.participants); renderPeople(m.participants); },
    "lobby.waiting_list"(m) { renderWaiting(m.waiting); },
    "chat.history"(m) { replaying = true; try { m.messages.forEach(addChat); } finally { replaying = false; } },
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
    const names = { scheduled: t("scheduled"), open: t("open"), ended: t("ended") };
    badge.textContent = names[room.status] || room.status;
    badge.className = `badge status-${room.status}`;
    $("auto-admit").checked = room.auto_admit;
  }

  function renderPeople(people) {
    const list = $("people");
    list.replaceChildren(...people.map((p) => {
      const consent = p.transcription_consent === true ? t("captions on")
        : p.transcription_consent === false ? t("not transcribed") : t("captions: not asked");
      const who = p.role === "interpreter" ? interpreterLabel(p) : roleName(p.role);
      const item = el("li");
      const away = p.online ? "" : " — " + (p.left ? t("left the session") : t("not connected"));
      const label = el("span", `${p.name} (${who}, ${consent})${away}`);
      if (p.id === me) label.append(el("span", ` (${t("you")})`, "muted"));
      item.append(label);
      if (p.role === "interpreter") item.classList.add("interpreter");
      if (state.permissions.has("remove_participant") && p.id !== me && p.role !== "host") {
        const btn = el("button", t("Remove"), "small secondary");
        btn.type = "button";
        btn.setAttribute("aria-label", t("Remove %(name)s", { name: p.name }));
        btn.addEventListener("click", () => confirmAction({
          title: t("Remove %(name)s?", { name: p.name }),
          text: t("They leave the call at once and cannot come back with this invitation."),
          ok: t("Remove"),
        }).then((yes) => { if (yes) send({ type: "participant.remove", participant_id: p.id }); }));
        item.append(btn);
      }
      return item;
    }));
  }

  // Everyone sees that an interpreter is present, and for which languages.
  function interpreterLabel(p) {
    const codes = p.interprets && p.interprets.length ? p.interprets
      : [...new Set([p.language, p.reading_language].filter(Boolean))];
    const names = codes.map(languageName).join(", ");
    return names ? t("interpreter: %(languages)s", { languages: names }) : t("interpreter");
  }

  // Interpreters get a link to their console (every language side by side), in a new tab:
  // they keep hearing the room on this page while they read and correct there.
  function showConsoleLink() {
    if (!state.permissions.has("use_interpreter_console") || $("console-link")) return;
    const link = el("a", t("Interpreter console (new tab)"));
    link.id = "console-link";
    link.href = `/rooms/${encodeURIComponent(roomId)}/interpret`;
    link.target = "_blank";
    link.rel = "noopener";
    link.className = "console-link";
    document.querySelector(".room-head").append(link);
  }

  // Each waiting person keeps their list item (and its buttons) across updates: a list rebuilt on
  // every update swallowed a click that landed while it was rebuilt, and lost the keyboard focus.
  function renderWaiting(waiting) {
    $("waiting-count").textContent = String(waiting.length);
    const badge = $("people-badge");
    badge.textContent = String(waiting.length);
    badge.hidden = waiting.length === 0;
    $("people-toggle").setAttribute("aria-description",
      waiting.length ? t("%(count)s waiting in the lobby", { count: waiting.length }) : "");
    noticeWaiting(waiting);
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
    const away = p.online ? "" : " — " + (p.left ? t("left the session") : t("offline"));
    return `${p.name} (${roleName(p.role)}, ${languageName(p.language) || "?"})${away}`;
  }

  function waitingItem(p) {
    const item = el("li", undefined, "waiting-person");
    item.dataset.participantId = p.id;
    item.append(el("span", waitingLabel(p), "waiting-who"));
    const admit = el("button", t("Admit"), "small");
    admit.type = "button";
    admit.setAttribute("aria-label", t("Admit %(name)s", { name: p.name }));
    admit.addEventListener("click", () => send({ type: "lobby.admit", participant_id: p.id }));
    const deny = el("button", t("Deny"), "small danger");
    deny.type = "button";
    deny.setAttribute("aria-label", t("Deny %(name)s", { name: p.name }));
    deny.addEventListener("click", () => confirmAction({
      title: t("Deny %(name)s?", { name: p.name }),
      text: t("Deny blocks this invitation: they cannot ask again. Their wait ends now; to meet them later, send a new invitation."),
      ok: t("Deny"),
    }).then((yes) => { if (yes) send({ type: "lobby.deny", participant_id: p.id }); }));
    const form = el("form", undefined, "note-form");
    const input = el("input");
    input.maxLength = 1000;
    input.placeholder = t("Message to this person");
    input.setAttribute("aria-label", t("Message to %(name)s", { name: p.name }));
    form.append(input, Object.assign(el("button", t("Send"), "small secondary"), { type: "submit" }));
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
      const into = { language: languageName(state.reading) };
      const note = (msg.no_route || []).includes(state.reading)
        ? t("No translation into %(language)s on this server", into)
        : t("Not translated into %(language)s", into);
      return [original, el("p", note, "translation-note")];
    }
    const text = el("p", translated.text, "chat-text");
    text.lang = state.reading;
    const details = el("details", undefined, "original");
    details.append(el("summary", t("Machine translation from %(language)s · show original",
      { language: languageName(msg.lang) })));
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
    const body = chatBody(msg);
    item.append(el("strong", msg.sender_name), " ",
      el("span", `(${roleName(msg.sender_role)})`, "chat-role muted"), " ",
      el("time", time.toLocaleTimeString(window.uiLocale, { hour: "2-digit", minute: "2-digit", timeZone: window.uiTimeZone })),
      ...body);
    insertBySeq(item, msg.seq);
    if (msg.sender_id !== me && !replaying) {
      announce(`${msg.sender_name}: ${body[0].textContent}`);
      if (openSheetId !== "sheet-chat") {
        unread += 1;
        $("chat-unread").textContent = String(unread);
        $("chat-unread").hidden = false;
      }
    }
  }

  // the history a (re)connection brings is shown, not read out or counted as unread
  let replaying = false;
  let unread = 0;

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
    // media's own refusals (a candidate the server will not check, …) are no chat matter
    if (m.ref && (m.ref.startsWith("rtc.") || m.ref === "media.state" || m.ref === "interpret.channel")) return;
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
    item.append(el("strong", t("You")), " ", el("span", t("sending…"), "muted"), el("p", text));
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

  // the counselor's "Send a form" picker (web/templates/_form_push.html) belongs with the people
  const formPicker = $("form-push-staff");
  if (formPicker) $("sheet-people").append(formPicker);

  // ---- names of roles, in the page's language --------------------------------------------
  function roleName(role) {
    const names = { host: t("counselor"), worker: t("worker"), guest: t("guest"),
      interpreter: t("interpreter") };
    return names[role] || role;
  }

  // ---- sheets: one open at a time; a column beside the video on a wide screen ----------------
  const wide = window.matchMedia("(min-width: 64rem)");
  const toggles = { "sheet-chat": "chat-toggle", "sheet-people": "people-toggle",
    "sheet-captions": "captions-toggle", "sheet-settings": "settings-toggle" };
  let openSheetId = null;

  function openSheet(id, moveFocus = true) {
    if (openSheetId && openSheetId !== id) closeSheet(false);
    openSheetId = id;
    $(id).hidden = false;
    if (id === "sheet-people") $("waiting-notice").hidden = true;
    $(toggles[id]).setAttribute("aria-expanded", "true");
    if (id === "sheet-chat") {
      unread = 0;
      $("chat-unread").hidden = true;
      const log = $("chat-log");
      log.scrollTop = log.scrollHeight;
    }
    if (!moveFocus) return;
    const first = id === "sheet-chat" && !$("chat-form").hidden ? $("chat-input")
      : $(id).querySelector(".sheet-head h2");
    if (first === $("chat-input")) first.focus({ preventScroll: true });
    else { first.setAttribute("tabindex", "-1"); first.focus({ preventScroll: true }); }
  }

  function closeSheet(returnFocus = true) {
    if (!openSheetId) return;
    const id = openSheetId;
    openSheetId = null;
    $(id).hidden = true;
    $(toggles[id]).setAttribute("aria-expanded", "false");
    if (returnFocus) $(toggles[id]).focus({ preventScroll: true });
  }

  for (const [id, button] of Object.entries(toggles)) {
    $(button).addEventListener("click", () => {
      if (openSheetId === id) closeSheet(); else openSheet(id);
    });
    $(id).querySelector(".sheet-close").addEventListener("click", () => closeSheet());
  }
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape" && openSheetId && !document.querySelector("dialog[open]")) closeSheet();
  });
  root.addEventListener("room:open-sheet", (ev) => openSheet(ev.detail));

  // ---- confirmations: a modal <dialog> that says what will happen ------------------------------
  function confirmAction({ title, text, ok, danger = true }) {
    const dialog = $("confirm-dialog");
    $("confirm-title").textContent = title;
    $("confirm-text").textContent = text;
    $("confirm-ok").textContent = ok;
    $("confirm-ok").classList.toggle("danger", danger);
    const opener = document.activeElement;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        resolve(dialog.returnValue === "ok");
        if (opener && opener.isConnected) opener.focus({ preventScroll: true });
      }, { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }

  // ---- leaving: for oneself (media and socket closed, a way back in), or ending for everyone --
  function leave() {
    state.left = true;
    socket.send({ type: "leave" }); // others see "left the session", not a dropped connection
    socket.finish(t("You left the session."));
  }

  $("leave-button").addEventListener("click", () => {
    const dialog = $("leave-dialog");
    dialog.returnValue = "";
    dialog.showModal();
    $("leave-confirm").focus();
  });
  $("leave-dialog").addEventListener("close", () => {
    const choice = $("leave-dialog").returnValue;
    if (choice === "leave") { leave(); return; }
    if (choice !== "end") { $("leave-button").focus({ preventScroll: true }); return; }
    confirmAction({
      title: t("End the session for everyone?"),
      text: t("Everyone is disconnected at once and nobody can join this session again. The transcript is kept."),
      ok: t("End for everyone"),
    }).then((yes) => { if (yes) $("end-form").submit(); });
  });

  // ---- the lobby: when the session is scheduled, in this reader's language and time zone -----
  function showSchedule() {
    const node = $("lobby-time");
    if (!node) return;
    const at = new Date(node.getAttribute("datetime"));
    if (Number.isNaN(at.getTime())) return;
    node.textContent = at.toLocaleString(window.uiLocale, { dateStyle: "full", timeStyle: "short", timeZone: window.uiTimeZone });
    $("lobby-early").hidden = at.getTime() - Date.now() < 15 * 60 * 1000;
  }
  showSchedule();

  // ---- the host hears a chime and sees a notice when someone starts waiting ----------------
  const noticed = new Set();

  function noticeWaiting(waiting) {
    const present = waiting.filter((p) => p.online);
    const fresh = present.filter((p) => !noticed.has(p.id));
    for (const p of waiting) if (!p.online) noticed.delete(p.id);
    present.forEach((p) => noticed.add(p.id));
    const notice = $("waiting-notice");
    if (!present.length) { notice.hidden = true; return; }
    $("waiting-notice-text").textContent = present.length === 1
      ? t("%(name)s is waiting in the lobby.", { name: present[0].name })
      : t("%(count)s people are waiting in the lobby.", { count: present.length });
    if (!fresh.length) return;
    notice.hidden = openSheetId === "sheet-people";
    root.dataset.chimes = String(Number(root.dataset.chimes || "0") + 1);
    root.dispatchEvent(new CustomEvent("room:lobby-chime", { detail: fresh.map((p) => p.name) }));
    chime();
  }

  $("waiting-show").addEventListener("click", () => {
    $("waiting-notice").hidden = true;
    openSheet("sheet-people");
  });

  // two soft tones (WebAudio); a browser that has not let the page play sound yet stays silent
  let chimeContext = null;
  function chime() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!chimeContext) {
      chimeContext = new Context();
      chimeContext.addEventListener("statechange", () => { root.dataset.chimeAudio = chimeContext.state; });
    }
    const ctx = chimeContext;
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    window.CounselMedia.playTones(ctx, ctx.destination, [880, 1318.5], { step: 0.18, peak: 0.2, length: 0.45 });
    root.dataset.chimeAudio = ctx.state;
  }

  setInterval(() => flushOutbox(RESEND_MS), RESEND_MS);
})();
