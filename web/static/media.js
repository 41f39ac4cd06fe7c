// Counsel Room: microphone and camera through the server's media router (see docs/protocol.md,
// "Media signaling"). Talks to the room socket through room.js's "room:message"/"room:send".
// Each person's microphone and camera state travels as `media.state`: others see a muted icon,
// and initials instead of video, also for someone whose browser gives no camera or microphone
// (permission refused, no device: this page then says why and how to allow it, with a retry).
"use strict";
(function () {
  const root = document.getElementById("room");
  if (!root || !window.RTCPeerConnection) return;
  const $ = (id) => document.getElementById(id);
  const ui = window.CounselMedia;
  const state = {
    pc: null, stream: null, iceServers: [], routes: new Map(), names: new Map(),
    tiles: new Map(), meters: new Map(), blocked: new Set(), started: false, closed: false,
    queue: Promise.resolve(), people: new Map(), mediaStates: new Map(), admitted: false,
    problem: null, offers: 0, // offers made so far: the latest one's id
    // interpreters join listen-only: no camera, microphone off until they choose a channel
    interpreter: root.dataset.role === "interpreter", channel: null, mix: "both",
  };
  let languageNames = {};
  try { languageNames = JSON.parse(root.dataset.languages || "{}"); } catch (e) { /* none */ }
  const languageName = (code) => languageNames[code] || code;
  // signaling steps run one at a time: a second server offer waits for the first's answer
  const serially = (step) => { state.queue = state.queue.then(step).catch(console.error); };

  const send = (message) => root.dispatchEvent(new CustomEvent("room:send", { detail: message }));
  const STATUS = {
    "not started": t("not started"), connecting: t("connecting"), connected: t("connected"),
    disconnected: t("disconnected"), failed: t("failed"), closed: t("closed"), new: t("new"),
    reconnecting: t("reconnecting"), "waiting for the room": t("waiting for the room"),
    ended: t("ended"), "could not start": t("could not start"),
    "in use in another window": t("in use in another window"),
    "receiving only": t("no microphone or camera; receiving only"),
  };
  const status = (text) => {
    $("media-status").textContent = t("Media: %(state)s", { state: STATUS[text] || text });
  };

  async function getMedia() {
    if (state.stream) return state.stream;
    const wanted = ui.startConstraints(!state.interpreter);
    let failure = null;
    try {
      state.stream = await navigator.mediaDevices.getUserMedia(wanted);
    } catch (err) {
      failure = err;
      try {
        state.stream = await navigator.mediaDevices.getUserMedia({ audio: wanted.audio });
      } catch (err2) {
        state.stream = new MediaStream();
      }
    }
    showProblem(failure, state.stream);
    if (state.interpreter) setMicrophone(Boolean(state.channel));
    $("local-video").srcObject = state.stream;
    updateButtons();
    watchLocal();
    refreshDevices().catch(console.error);
    return state.stream;
  }

  // -- no camera or microphone: say why, how to allow them in this browser, and offer a retry --
  function showProblem(failure, stream) {
    const audio = stream.getAudioTracks().length > 0;
    const video = stream.getVideoTracks().length > 0 || state.interpreter;
    const box = $("media-problem");
    state.problem = audio && video ? null : ui.problemKind(failure);
    box.hidden = !state.problem;
    if (!state.problem) return;
    const missing = !audio && !video ? t("camera and microphone") : !audio ? t("microphone") : t("camera");
    $("media-problem-text").textContent = {
      denied: t("Your browser blocked the %(devices)s for this site, so the others cannot see or hear you. They see your initials, and you can still see, hear and chat.", { devices: missing }),
      missing: t("No %(devices)s was found. Connect one and press Try again. Meanwhile the others see your initials, and you can still see, hear and chat.", { devices: missing }),
      busy: t("The %(devices)s is in use by another program or tab. Close it and press Try again.", { devices: missing }),
    }[state.problem];
    const help = $("media-problem-help");
    help.replaceChildren();
    if (state.problem === "denied") {
      const all = $("permission-help").content;
      const line = all.querySelector(`[data-browser="${ui.browserFamily()}"]`) || all.querySelector('[data-browser="other"]');
      help.append(line.cloneNode(true));
    }
    status("receiving only");
  }

  async function retryMedia() {
    const button = $("media-retry");
    button.disabled = true;
    try {
      if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
      state.stream = null;
      await getMedia();
      sendMediaState();
      if (state.admitted && state.pc) await start();
    } finally {
      button.disabled = false;
    }
  }
  $("media-retry").addEventListener("click", () => { retryMedia().catch(console.error); });

  // -- my microphone and camera, as the others should show them ---------------------------------
  function ownMediaState() {
    const of = (kind) => {
      const tracks = state.stream ? state.stream.getTracks().filter((tr) => tr.kind === kind) : [];
      if (!tracks.length) return "unavailable";
      return tracks.some((tr) => tr.enabled) ? "on" : "off";
    };
    return { audio: of("audio"), video: of("video") };
  }

  function sendMediaState() {
    if (!state.admitted || !state.stream) return;
    const mine = ownMediaState();
    send({ type: "media.state", ...mine });
    const local = $("tile-local");
    local.classList.toggle("cam-off", mine.video !== "on");
    local.dataset.initials = ui.initials(state.names.get(root.dataset.participantId) || t("You"));
  }

  // -- devices: a labelled <select> per kind; switching replaces the sent track in place -----
  const pickers = { audio: ["mic-select", "audioinput"], video: ["cam-select", "videoinput"] };

  async function refreshDevices() {
    for (const [kind, [id, deviceKind]] of Object.entries(pickers)) {
      const track = state.stream && state.stream.getTracks().find((t) => t.kind === kind);
      const current = track ? track.getSettings().deviceId : "";
      await ui.fillDevices($(id), deviceKind, current);
    }
    if (speakerSupported) {
      const outputs = await ui.fillDevices($("speaker-select"), "audiooutput", ui.savedDevices().audiooutput);
      $("speaker-pick").hidden = outputs.length < 2;
    }
  }

  async function switchDevice(kind, deviceId) {
    const old = state.stream && state.stream.getTracks().find((t) => t.kind === kind);
    if (!state.stream || (old && old.getSettings().deviceId === deviceId)) return;
    const fresh = (await navigator.mediaDevices.getUserMedia(ui.constraints(kind, deviceId)))
      .getTracks().find((t) => t.kind === kind);
    ui.saveDevice(kind === "audio" ? "audioinput" : "videoinput", deviceId);
    if (old) {
      fresh.enabled = old.enabled;
      state.stream.removeTrack(old);
      old.stop();
    }
    state.stream.addTrack(fresh);
    const sender = state.pc && state.pc.getSenders().find((s) => s.track === old || (s.track && s.track.kind === kind));
    if (sender) await sender.replaceTrack(fresh);
    else if (!old && state.pc) start().catch(console.error); // a new kind needs a new offer
    $("local-video").srcObject = state.stream;
    if (kind === "audio") watchLocal();
    updateButtons();
  }

  // -- speaking indicators: a level meter per audio track -----------------------------------
  function watch(key, track, figuresOf) {
    if (state.meters.has(key)) state.meters.get(key)();
    state.meters.set(key, ui.watchSpeaking(track, (on) => {
      for (const figure of figuresOf()) ui.showSpeaking(figure, on);
    }));
  }

  function watchLocal() {
    const track = state.stream && state.stream.getAudioTracks()[0];
    if (track) watch("local", track, () => [$("tile-local")]);
  }

  async function start() {
    if (state.closed) return;
    stopPeer();
    const stream = await getMedia();
    const pc = new RTCPeerConnection({ iceServers: state.iceServers, bundlePolicy: "max-bundle" });
    state.pc = pc;
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    if (!stream.getTracks().length) pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addEventListener("icecandidate", (ev) => {
      if (pc !== state.pc) return;
      const c = ev.candidate;
      send({ type: "rtc.candidate", candidate: c ? c.candidate : "", sdp_mid: c ? c.sdpMid : null,
             sdp_mline_index: c ? c.sdpMLineIndex : null });
    });
    pc.addEventListener("track", (ev) => onTrack(ev));
    pc.addEventListener("connectionstatechange", () => {
      if (pc !== state.pc) return;
      status(pc.connectionState);
      if (pc.connectionState === "failed") setTimeout(start, 2000);
    });
    status("connecting");
    sendMediaState();
    await offer(state.started);
    state.started = true;
  }

  async function offer(restart) {
    // only the first offer of each peer connection comes from here, so it cannot cross a
    // server offer; should one arrive while ours is pending, onServerOffer rolls ours back
    const pc = state.pc;
    await pc.setLocalDescription(await pc.createOffer());
    state.offers += 1; // its answer names it: older answers are not for pc
    send({ type: "rtc.offer", sdp: pc.localDescription.sdp, restart: Boolean(restart),
           offer_id: String(state.offers) });
  }

  async function onServerOffer(m) {
    const pc = state.pc;
    if (!pc) return;
    // the server is impolite: on glare we roll back our offer and answer its one
    if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({ type: "rollback" });
    await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
    state.routes = new Map(m.routes.map((r) => [r.mid, r]));
    await pc.setLocalDescription(await pc.createAnswer());
    send({ type: "rtc.answer", sdp: pc.localDescription.sdp });
    renderTiles();
  }

  function onTrack(ev) {
    const mid = ev.transceiver.mid;
    const tile = tileFor(mid, ev.track.kind);
    const stream = tile.video.srcObject || new MediaStream();
    stream.addTrack(ev.track);
    tile.video.srcObject = stream;
    play(tile.video);
    if (speakerSupported && ui.savedDevices().audiooutput) {
      tile.video.setSinkId(ui.savedDevices().audiooutput).catch(() => {});
    }
    if (ev.track.kind === "audio") {
      // the route of a mid can change on renegotiation: look the speaker up on every change
      watch(mid, ev.track, () => {
        const route = state.routes.get(mid);
        return route ? [...state.tiles.values()].map((t) => t.figure)
          .filter((f) => f.dataset.participantId === route.participant_id) : [];
      });
    }
    renderTiles();
  }

  // one tile per receiving m-line of a participant: video tiles show video (muted: they carry
  // no sound), audio tiles play the sound
  function tileFor(mid, kind) {
    let tile = state.tiles.get(mid);
    if (!tile) {
      const figure = document.createElement("figure");
      figure.className = "tile";
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      video.muted = kind === "video";
      video.addEventListener("playing", () => setBlocked(video, false));
      // initials until the first picture arrives (a black tile says nothing)
      figure.classList.add("no-picture");
      const pictured = () => figure.classList.toggle("no-picture", !video.videoWidth);
      video.addEventListener("loadeddata", pictured);
      video.addEventListener("resize", pictured);
      const caption = document.createElement("figcaption");
      caption.setAttribute("aria-hidden", "true"); // the figure is named: the name is read once
      figure.append(video, caption);
      $("tiles").append(figure);
      tile = { figure, video, caption };
      state.tiles.set(mid, tile);
    }
    return tile;
  }

  function renderTiles() {
    const withVideo = new Set([...state.routes.values()].filter((r) => r.kind === "video")
      .map((r) => r.participant_id));
    const shown = new Set();
    for (const [mid, tile] of state.tiles) {
      const route = state.routes.get(mid);
      tile.figure.hidden = !route;
      if (!route) continue;
      tile.figure.dataset.participantId = route.participant_id;
      // a speaker's audio plays from a hidden tile when they have a video tile, else it shows
      const voiceOnly = route.kind === "audio" && !withVideo.has(route.participant_id);
      tile.figure.classList.toggle("audio-only", route.kind === "audio" && !voiceOnly);
      tile.figure.classList.toggle("voice-only", voiceOnly);
      const name = state.names.get(route.participant_id) || "…";
      tile.caption.textContent = route.channel
        ? t("%(name)s, interpreting into %(language)s", { name, language: languageName(route.channel) })
        : name;
      tile.figure.setAttribute("aria-label", tile.caption.textContent);
      if (!tile.figure.classList.contains("audio-only")) shown.add(route.participant_id);
      showMediaState(tile.figure, route.participant_id, name);
    }
    renderPlaceholders(shown);
    applyMix();
  }

  // someone admitted and here who sends no media at all (no camera or microphone): a tile with
  // their initials, so that the others know they are in the call
  function renderPlaceholders(shown) {
    const me = root.dataset.participantId;
    const wanted = new Set([...state.people.values()]
      .filter((p) => p.online && p.id !== me && p.role !== "interpreter" && !shown.has(p.id))
      .map((p) => p.id));
    for (const figure of $("tiles").querySelectorAll("figure.placeholder")) {
      if (!wanted.has(figure.dataset.participantId)) figure.remove();
    }
    for (const id of wanted) {
      let figure = $("tiles").querySelector(`figure.placeholder[data-participant-id="${CSS.escape(id)}"]`);
      if (!figure) {
        figure = document.createElement("figure");
        figure.className = "tile placeholder";
        figure.dataset.participantId = id;
        const caption = document.createElement("figcaption");
        caption.setAttribute("aria-hidden", "true");
        figure.append(caption);
        $("tiles").append(figure);
      }
      const name = state.names.get(id) || "…";
      figure.querySelector("figcaption").textContent = name;
      figure.setAttribute("aria-label", name);
      showMediaState(figure, id, name);
    }
  }

  function showMediaState(figure, participantId, name) {
    const known = state.mediaStates.get(participantId);
    const placeholder = figure.classList.contains("placeholder");
    figure.dataset.initials = ui.initials(name);
    figure.classList.toggle("cam-off", placeholder || Boolean(known && known.video !== "on"));
    const micOff = placeholder ? !known || known.audio !== "on" : Boolean(known && known.audio !== "on");
    let icon = figure.querySelector(".mic-off-icon");
    if (micOff && !icon) {
      icon = ui.micOffIcon(t("Microphone off"));
      figure.append(icon);
    }
    if (icon) icon.hidden = !micOff;
  }

  // -- interpretation, as a listener: the interpreter of my language's channel comes on its own
  // m-line (its route names the channel); I choose what I hear of it and of the original voices
  function applyMix() {
    const interpreted = [...state.routes.values()].some((r) => r.kind === "audio" && r.channel);
    $("interpretation-mix").hidden = !interpreted;
    const volumes = ui.mixVolumes(state.mix, interpreted);
    for (const [mid, tile] of state.tiles) {
      const route = state.routes.get(mid);
      if (!route || route.kind !== "audio") continue;
      const volume = route.channel ? volumes.interpreter : volumes.original;
      tile.video.volume = volume;
      tile.video.muted = volume === 0;
      tile.figure.classList.toggle("interpretation", Boolean(route.channel));
    }
  }

  for (const radio of document.querySelectorAll('input[name="interpretation-mix"]')) {
    radio.addEventListener("change", (ev) => { if (ev.target.checked) { state.mix = ev.target.value; applyMix(); } });
  }

  // -- interpretation, as an interpreter: the channel my voice goes into (none: nobody hears me)
  function setMicrophone(on) {
    if (!state.stream) return;
    for (const track of state.stream.getAudioTracks()) track.enabled = on;
    updateButtons();
  }

  function showChannel(language, note) {
    const select = $("interpret-channel");
    select.value = language || "";
    select.disabled = false;
    $("interpret-status").textContent = note || (language
      ? `Your voice goes to the people who read ${languageName(language)}.`
      : "Nobody hears you.");
  }

  function fillChannels(languages) {
    const select = $("interpret-channel");
    const none = select.options[0];
    select.replaceChildren(none, ...languages.map((code) => {
      const option = document.createElement("option");
      option.value = code;
      option.textContent = languageName(code);
      return option;
    }));
    showChannel(state.channel);
  }

  if (state.interpreter) {
    $("interpret-pick").hidden = false;
    $("interpret-channel").addEventListener("change", (ev) => {
      ev.target.disabled = true;
      send({ type: "interpret.channel", language: ev.target.value || null });
    });
  }

  // -- autoplay: browsers may refuse to play sound before the person interacts with the page;
  // then a button in the media area starts it (pressing it is the interaction they ask for) -----
  function play(media) {
    const attempt = media.play();
    if (!attempt) return;
    attempt.then(() => setBlocked(media, false), (err) => {
      // AbortError and the like: a newer source or pause() overtook this play(); not a refusal
      if (err.name === "NotAllowedError") setBlocked(media, true);
    });
  }

  function setBlocked(media, blocked) {
    if (blocked && !media.isConnected) return; // its tile went away meanwhile
    if (blocked) state.blocked.add(media);
    else state.blocked.delete(media);
    const prompt = $("sound-prompt");
    const wasShown = !prompt.hidden;
    prompt.hidden = state.blocked.size === 0;
    if (wasShown && prompt.hidden && prompt.contains(document.activeElement)) {
      // keep keyboard users where they were: on the controls right after the prompt
      const next = [$("mic-toggle"), $("cam-toggle")].find((b) => !b.disabled);
      if (next) next.focus();
    }
  }

  $("sound-enable").addEventListener("click", () => {
    for (const media of [...state.blocked]) play(media);
  });

  function stopPeer() {
    if (state.pc) { state.pc.close(); state.pc = null; }
    for (const media of [...state.blocked]) setBlocked(media, false);
    for (const [key, stop] of state.meters) if (key !== "local") { stop(); state.meters.delete(key); }
    for (const tile of state.tiles.values()) tile.figure.remove();
    for (const figure of $("tiles").querySelectorAll("figure.placeholder")) figure.remove();
    state.tiles.clear();
    state.routes.clear();
  }

  // a pressed button: on; not pressed: off (crossed out, red); disabled: no such device
  function updateButtons() {
    const stream = state.stream;
    for (const [id, kind] of [["mic-toggle", "audio"], ["cam-toggle", "video"]]) {
      const tracks = stream ? stream.getTracks().filter((t) => t.kind === kind) : [];
      const enabled = tracks.some((t) => t.enabled);
      const btn = $(id);
      if (!tracks.length && document.activeElement === btn) {
        $("captions-toggle").focus({ preventScroll: true }); // keyboard users stay on the bar
      }
      btn.disabled = !tracks.length;
      btn.setAttribute("aria-pressed", String(enabled));
    }
  }

  function toggle(kind) {
    if (!state.stream) return;
    for (const track of state.stream.getTracks()) if (track.kind === kind) track.enabled = !track.enabled;
    updateButtons();
    sendMediaState();
  }

  $("mic-toggle").addEventListener("click", () => toggle("audio"));
  $("cam-toggle").addEventListener("click", () => toggle("video"));
  for (const [kind, [id]] of Object.entries(pickers)) {
    $(id).addEventListener("change", (ev) => {
      switchDevice(kind, ev.target.value).catch((err) => { console.error(err); status(kind === "audio" ? t("could not switch the microphone") : t("could not switch the camera")); });
    });
  }
  if (navigator.mediaDevices) {
    navigator.mediaDevices.addEventListener("devicechange", () => { if (state.stream) refreshDevices().catch(console.error); });
  }

  // -- the speaker, where the browser can choose one (setSinkId) --------------------------------
  const speakerSupported = "setSinkId" in HTMLMediaElement.prototype;
  function applySpeaker() {
    const id = ui.savedDevices().audiooutput;
    if (!speakerSupported || !id) return;
    for (const tile of state.tiles.values()) tile.video.setSinkId(id).catch(() => {});
  }
  if (speakerSupported) {
    $("speaker-select").addEventListener("change", (ev) => {
      ui.saveDevice("audiooutput", ev.target.value);
      applySpeaker();
    });
  }

  // -- my own small video: dragged to any corner, or moved to the next one with Enter/Space -----
  const CORNERS = ["top-right", "bottom-right", "bottom-left", "top-left"];
  const local = $("tile-local");
  local.dataset.corner = ui.savedCorner() || "top-right";
  local.setAttribute("role", "button");
  function placeLocal(corner) {
    local.dataset.corner = corner;
    ui.saveCorner(corner);
  }
  local.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" && ev.key !== " ") return;
    ev.preventDefault();
    placeLocal(CORNERS[(CORNERS.indexOf(local.dataset.corner) + 1) % CORNERS.length]);
  });
  local.addEventListener("pointerdown", (ev) => {
    local.setPointerCapture(ev.pointerId);
    local.classList.add("dragging");
  });
  local.addEventListener("pointerup", (ev) => {
    if (!local.classList.contains("dragging")) return;
    local.classList.remove("dragging");
    const area = $("tiles").getBoundingClientRect();
    const right = ev.clientX > area.left + area.width / 2;
    const bottom = ev.clientY > area.top + area.height / 2;
    placeLocal(`${bottom ? "bottom" : "top"}-${right ? "right" : "left"}`);
  });

  const handlers = {
    welcome(m) {
      if (state.interpreter) fillChannels(m.room.languages);
      state.admitted = m.admission === "admitted";
    },
    "lobby.admitted"(m) {
      if (m.participant_id === root.dataset.participantId) state.admitted = true;
    },
    "media.state"(m) {
      state.mediaStates.set(m.participant_id, { audio: m.audio, video: m.video });
      renderTiles();
    },
    "interpret.channel"(m) {
      state.channel = m.language;
      setMicrophone(Boolean(m.language)); // choosing a channel is choosing to speak
      showChannel(m.language);
    },
    error(m) {
      if (m.ref === "interpret.channel") showChannel(state.channel, m.message);
    },
    "rtc.config"(m) {
      state.iceServers = m.ice_servers.map((s) => Object.fromEntries(
        Object.entries(s).filter(([, v]) => v !== null)));
      start().catch((err) => { console.error(err); status("could not start"); });
    },
    "rtc.answer"(m) {
      serially(async () => {
        if (m.offer_id !== String(state.offers)) return; // answers an offer of an earlier peer
        if (state.pc && state.pc.signalingState === "have-local-offer") {
          await state.pc.setRemoteDescription({ type: "answer", sdp: m.sdp });
        }
      });
    },
    "rtc.offer"(m) { serially(() => onServerOffer(m)); },
    "rtc.state"(m) {
      for (const tile of state.tiles.values()) {
        if (tile.figure.dataset.participantId === m.participant_id) tile.figure.dataset.state = m.state;
      }
    },
    "rtc.dropped"(m) {
      if (m.reason === "replaced") { stopPeer(); status("in use in another window"); return; }
      status("reconnecting");
      setTimeout(start, 1000);
    },
    presence(m) {
      const before = new Set([...state.people.values()].filter((p) => p.online).map((p) => p.id));
      state.names = new Map(m.participants.map((p) => [p.id, p.name]));
      state.people = new Map(m.participants.map((p) => [p.id, p]));
      // media.state is not stored: whoever came (back) hears mine again
      if (m.participants.some((p) => p.online && !before.has(p.id))) sendMediaState();
      renderTiles();
    },
  };

  root.addEventListener("room:message", (ev) => {
    const handler = handlers[ev.detail.type];
    if (handler) handler(ev.detail);
  });
  root.addEventListener("room:disconnected", () => {
    stopPeer();
    if (state.interpreter) { // the server forgets the channel of a socket that closed
      state.channel = null;
      setMicrophone(false);
      showChannel(null);
    }
    if (!state.closed) status("waiting for the room"); // the socket also closes after the end
  });
  root.addEventListener("room:closed", () => {
    state.closed = true;
    stopPeer();
    if (state.stream) state.stream.getTracks().forEach((t) => t.stop());
    for (const stop of state.meters.values()) stop();
    state.meters.clear();
    status("ended");
  });
})();
