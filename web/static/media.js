// Counsel Room: microphone and camera through the server's media router (see docs/protocol.md,
// "Media signaling"). Talks to the room socket through room.js's "room:message"/"room:send".
"use strict";
(function () {
  const root = document.getElementById("room");
  if (!root || !window.RTCPeerConnection) return;
  const $ = (id) => document.getElementById(id);
  const ui = window.CounselMedia;
  const state = {
    pc: null, stream: null, iceServers: [], routes: new Map(), names: new Map(),
    tiles: new Map(), meters: new Map(), blocked: new Set(), started: false, closed: false,
    queue: Promise.resolve(),
    // interpreters join listen-only: no camera, microphone off until they choose a channel
    interpreter: root.dataset.role === "interpreter", channel: null, mix: "both",
  };
  let languageNames = {};
  try { languageNames = JSON.parse(root.dataset.languages || "{}"); } catch (e) { /* none */ }
  const languageName = (code) => languageNames[code] || code;
  // signaling steps run one at a time: a second server offer waits for the first's answer
  const serially = (step) => { state.queue = state.queue.then(step).catch(console.error); };

  const send = (message) => root.dispatchEvent(new CustomEvent("room:send", { detail: message }));
  const status = (text) => { $("media-status").textContent = `Media: ${text}`; };

  async function getMedia() {
    if (state.stream) return state.stream;
    try {
      state.stream = await navigator.mediaDevices.getUserMedia({ audio: ui.AUDIO, video: !state.interpreter });
    } catch (err) {
      try {
        state.stream = await navigator.mediaDevices.getUserMedia({ audio: ui.AUDIO });
      } catch (err2) {
        state.stream = new MediaStream();
        status("no microphone or camera; receiving only");
      }
    }
    if (state.interpreter) setMicrophone(Boolean(state.channel));
    $("local-video").srcObject = state.stream;
    updateButtons();
    watchLocal();
    refreshDevices().catch(console.error);
    return state.stream;
  }

  // -- devices: a labelled <select> per kind; switching replaces the sent track in place -----
  const pickers = { audio: ["mic-select", "audioinput"], video: ["cam-select", "videoinput"] };

  async function refreshDevices() {
    for (const [kind, [id, deviceKind]] of Object.entries(pickers)) {
      const track = state.stream && state.stream.getTracks().find((t) => t.kind === kind);
      const current = track ? track.getSettings().deviceId : "";
      await ui.fillDevices($(id), deviceKind, current);
    }
  }

  async function switchDevice(kind, deviceId) {
    const old = state.stream && state.stream.getTracks().find((t) => t.kind === kind);
    if (!state.stream || (old && old.getSettings().deviceId === deviceId)) return;
    const fresh = (await navigator.mediaDevices.getUserMedia(ui.constraints(kind, deviceId)))
      .getTracks().find((t) => t.kind === kind);
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
    await offer(state.started);
    state.started = true;
  }

  async function offer(restart) {
    // only the first offer of each peer connection comes from here, so it cannot cross a
    // server offer; should one arrive while ours is pending, onServerOffer rolls ours back
    const pc = state.pc;
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "rtc.offer", sdp: pc.localDescription.sdp, restart: Boolean(restart) });
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
      const caption = document.createElement("figcaption");
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
        ? `${name}, interpreting into ${languageName(route.channel)}` : name;
    }
    applyMix();
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
    state.tiles.clear();
    state.routes.clear();
  }

  function updateButtons() {
    const stream = state.stream;
    for (const [id, kind, on, off] of [["mic-toggle", "audio", "Microphone on", "Microphone off"],
                                        ["cam-toggle", "video", "Camera on", "Camera off"]]) {
      const tracks = stream ? stream.getTracks().filter((t) => t.kind === kind) : [];
      const enabled = tracks.some((t) => t.enabled);
      const btn = $(id);
      btn.disabled = !tracks.length;
      btn.setAttribute("aria-pressed", String(enabled));
      btn.textContent = enabled ? on : off;
    }
  }

  function toggle(kind) {
    if (!state.stream) return;
    for (const track of state.stream.getTracks()) if (track.kind === kind) track.enabled = !track.enabled;
    updateButtons();
  }

  $("mic-toggle").addEventListener("click", () => toggle("audio"));
  $("cam-toggle").addEventListener("click", () => toggle("video"));
  for (const [kind, [id]] of Object.entries(pickers)) {
    $(id).addEventListener("change", (ev) => {
      switchDevice(kind, ev.target.value).catch((err) => { console.error(err); status(`could not switch ${kind === "audio" ? "microphone" : "camera"}`); });
    });
  }
  if (navigator.mediaDevices) {
    navigator.mediaDevices.addEventListener("devicechange", () => { if (state.stream) refreshDevices().catch(console.error); });
  }

  const handlers = {
    welcome(m) {
      if (state.interpreter) fillChannels(m.room.languages);
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
      state.names = new Map(m.participants.map((p) => [p.id, p.name]));
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
