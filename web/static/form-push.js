// Counsel Room: forms pushed into the room (docs/forms.md, "In the room"). Listens to the room
// socket through room.js's "room:message" on #room and sends through "room:send".
// The counselor picks a form and a worker ("form.push") and is told when it arrives
// ("form.submitted", with the review page). The worker's page opens the form in a sheet over
// the lower part of a phone's screen, or beside the video on a wider one: the form's own page
// (/f/{token}) is fetched and its form placed here, run by form.js as on its page (drafts,
// uploads, checks), so the call goes on while the worker fills it in.
"use strict";
(function () {
  const root = document.getElementById("room");
  const box = document.getElementById("form-push");
  if (!root || !box) return;
  const me = root.dataset.participantId;
  const $ = (id) => document.getElementById(id);
  const send = (message) => root.dispatchEvent(new CustomEvent("room:send", { detail: message }));
  // The sheet and the notices float over the page wherever the include sits (it may be inside
  // a panel that is closed); the counselor's picker goes beside the people in the room.
  root.append($("form-push-sheet"), $("form-push-bar"), $("form-push-toast"));
  const people = $("sheet-people");
  if (people) people.append($("form-push-staff"));
  const pushes = new Map();
  const state = {
    staff: false, admitted: false, forms: [], workers: [], open: null, later: new Set(),
    reading: root.dataset.reading || "",  // the form opens in the language the room is read in
  };

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function sync() { if (state.admitted) send({ type: "form.sync" }); }

  // ---- the counselor ---------------------------------------------------------------------

  function renderStaff() {
    $("form-push-staff").hidden = !(state.staff && state.admitted);
    if (!state.staff) return;
    fillSelect($("form-push-form-select"), state.forms.map((f) => [f.id, f.title]));
    fillSelect($("form-push-worker"), state.workers.map((p) => [p.id, p.name]));
    $("form-push-none").hidden = state.workers.length > 0;
    $("form-push-send").disabled = !state.workers.length || !state.forms.length;
    const items = [...pushes.values()].reverse().map((push) => {
      const item = el("li");
      const status = push.submitted_at ? t("sent") : t("waiting");
      item.append(el("span", t("%(title)s to %(name)s: %(status)s",
        { title: push.title, name: push.participant_name, status })));
      if (push.url) {
        const link = el("a", t("Review"));
        link.href = push.url; link.target = "_blank"; link.rel = "noopener";
        item.append(" ", link);
      }
      return item;
    });
    $("form-push-list").replaceChildren(...items);
  }

  function fillSelect(select, options) {
    const chosen = select.value;
    select.replaceChildren(...options.map(([value, label]) => {
      const option = el("option", label);
      option.value = value;
      return option;
    }));
    if (options.some(([value]) => value === chosen)) select.value = chosen;
  }

  $("form-push-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const participant = $("form-push-worker").value;
    const form = $("form-push-form-select").value;
    if (participant && form) send({ type: "form.push", participant_id: participant, form_id: form });
  });

  function toast(text, url) {
    $("form-push-toast-text").textContent = text;
    const link = $("form-push-toast-link");
    link.hidden = !url;
    if (url) link.href = url;
    $("form-push-toast").hidden = false;
  }
  $("form-push-toast-close").addEventListener("click", () => { $("form-push-toast").hidden = true; });

  // ---- the worker ------------------------------------------------------------------------

  function pending() {
    return [...pushes.values()].filter((push) => !push.submitted_at);
  }

  function renderBar() {
    const waiting = state.staff ? [] : pending().filter((push) => push.id !== state.open);
    $("form-push-bar").hidden = !waiting.length;
    if (waiting.length) {
      $("form-push-bar-text").textContent = t("Your counselor sent you a form: %(title)s",
        { title: waiting[0].title });
      $("form-push-open").dataset.push = waiting[0].id;
    }
  }

  async function openSheet(push) {
    state.open = push.id;
    state.later.delete(push.id);
    $("form-push-title").textContent = push.title;
    const body = $("form-push-body");
    body.replaceChildren(el("p", t("Loading the form…"), "muted"));
    $("form-push-sheet").hidden = false;
    document.body.classList.add("form-push-open");
    renderBar();
    try {
      const address = state.reading ? `${push.url}?lang=${encodeURIComponent(state.reading)}` : push.url;
      const response = await fetch(address, { headers: { accept: "text/html" } });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const content = page.querySelector(".form-page");
      const form = page.getElementById("fill");
      if (!response.ok || !content || !form) {
        const said = page.querySelector("main p, main h1");
        throw new Error(said ? said.textContent : `HTTP ${response.status}`);
      }
      if (state.open !== push.id) return;
      content.querySelector(".lang-pick")?.remove();  // the language comes from the room
      content.querySelector("#form-title")?.remove();  // the sheet's own header has it
      form.dataset.embedded = "1";
      content.querySelectorAll('a[href^="/f/"]').forEach((link) => {  // leave the call open
        link.target = "_blank";
        link.rel = "noopener";
      });
      body.replaceChildren(document.adoptNode(content));
      const script = document.createElement("script");
      script.src = box.dataset.formScript;
      body.append(script);
      body.focus();
    } catch (err) {
      body.replaceChildren(el("p", t("The form could not be opened: %(reason)s",
        { reason: err.message }), "error"));
    }
  }

  function closeSheet() {
    if (state.open) state.later.add(state.open);
    state.open = null;
    $("form-push-sheet").hidden = true;
    document.body.classList.remove("form-push-open");
    renderBar();
  }

  function showSent(push) {
    if (state.open !== push.id) return;
    const body = $("form-push-body");
    const done = el("p", t("Sent. Your counselor has received it. Thank you."), "ok");
    done.setAttribute("role", "status");
    const close = el("button", t("Close"));
    close.type = "button";
    close.addEventListener("click", closeSheet);
    body.replaceChildren(done, close);
    close.focus();
  }

  function openNext() {
    if (state.staff || state.open) return;
    const next = pending().find((push) => !state.later.has(push.id));
    if (next) openSheet(next);
  }

  $("form-push-later").addEventListener("click", closeSheet);
  $("form-push-open").addEventListener("click", (ev) => {
    const push = pushes.get(ev.currentTarget.dataset.push);
    if (push) openSheet(push);
  });
  root.addEventListener("form:sent", () => {
    const push = pushes.get(state.open);
    if (push) {
      push.submitted_at = push.submitted_at || new Date().toISOString();
      showSent(push);
    }
  });

  // ---- the socket ------------------------------------------------------------------------

  function keep(push) {
    const known = pushes.get(push.id);
    pushes.set(push.id, known && !push.url ? { ...push, url: known.url } : push);
  }

  const handlers = {
    welcome(m) {
      state.staff = m.permissions.includes("send_form_link");
      state.admitted = m.admission === "admitted";
      sync();
    },
    "lobby.admitted"(m) {
      if (m.participant_id === me && !state.admitted) { state.admitted = true; sync(); }
    },
    presence(m) {
      state.workers = m.participants.filter((p) => p.role === "worker");
      renderStaff();
    },
    "form.pushes"(m) {
      pushes.clear();
      m.pushes.forEach(keep);
      state.forms = m.forms;
      renderStaff(); renderBar(); openNext();
    },
    "form.pushed"(m) {
      keep(m.push);
      renderStaff();
      if (state.staff) {
        toast(t("%(title)s sent to %(name)s. It opens on their screen.",
          { title: m.push.title, name: m.push.participant_name }), "");
      } else if (state.open !== m.push.id) {
        openSheet(pushes.get(m.push.id));
      }
    },
    "form.submitted"(m) {
      keep(m.push);
      renderStaff(); renderBar();
      if (state.staff) {
        toast(t("%(name)s sent %(title)s.", { name: m.push.participant_name, title: m.push.title }),
          m.push.url);
      } else {
        showSent(pushes.get(m.push.id));
      }
    },
  };

  root.addEventListener("room:message", (ev) => {
    const handler = handlers[ev.detail.type];
    if (handler) handler(ev.detail);
  });
  root.addEventListener("room:reading", (ev) => { state.reading = ev.detail || state.reading; });
  root.addEventListener("room:closed", () => {
    state.admitted = false;
    closeSheet();
    $("form-push-bar").hidden = true;
    $("form-push-staff").hidden = true;
  });
})();
