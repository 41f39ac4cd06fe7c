// Counsel Room: the device check between the join page and the lobby. A camera preview, a
// microphone level, a test sound through the chosen speaker and a choice of devices; the
// choices are kept (media-ui.js, localStorage "counsel.devices") for the room page's capture.
// A refused permission or a missing device is explained, with how to allow it in this browser
// and a retry. Nothing here is required: Continue and Skip both lead to the waiting room.
"use strict";
(function () {
  const page = document.getElementById("device-check");
  if (!page) return;
  const ui = window.CounselMedia;
  const $ = (id) => document.getElementById(id);
  const state = { stream: null, stopMeter: null, context: null, heard: false };

  function showSchedule() {
    const node = $("check-time");
    const at = new Date(node.getAttribute("datetime"));
    if (!Number.isNaN(at.getTime())) {
      node.textContent = at.toLocaleString(window.uiLocale, { dateStyle: "full", timeStyle: "short", timeZone: window.uiTimeZone });
    }
  }

  function stop() {
    if (state.stopMeter) state.stopMeter();
    state.stopMeter = null;
    if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
    state.stream = null;
  }

  async function capture() {
    stop();
    const wanted = ui.startConstraints(true);
    let failure = null;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(wanted);
    } catch (err) {
      failure = err;
      stream = await navigator.mediaDevices.getUserMedia({ audio: wanted.audio }).catch(() => null)
        || await navigator.mediaDevices.getUserMedia({ video: wanted.video }).catch(() => null)
        || new MediaStream();
    }
    state.stream = stream;
    $("check-video").srcObject = stream;
    $("check-no-video").hidden = stream.getVideoTracks().length > 0;
    showProblem(failure, stream);
    meter(stream.getAudioTracks()[0]);
    await listDevices();
  }

  function showProblem(failure, stream) {
    const audio = stream.getAudioTracks().length > 0;
    const video = stream.getVideoTracks().length > 0;
    const box = $("check-problem");
    const kind = audio && video ? null : ui.problemKind(failure);
    box.hidden = !kind;
    page.dataset.problem = kind || "";
    if (!kind) return;
    const missing = !audio && !video ? t("camera and microphone") : !audio ? t("microphone") : t("camera");
    $("check-problem-text").textContent = {
      denied: t("Your browser blocked the %(devices)s for this site. Without them the others cannot see or hear you, but you can still join, see, hear and chat.", { devices: missing }),
      missing: t("No %(devices)s was found. Connect one and press Try again, or join without it: you can still see, hear and chat.", { devices: missing }),
      busy: t("The %(devices)s is in use by another program or tab. Close it and press Try again.", { devices: missing }),
    }[kind];
    const help = $("check-problem-help");
    help.replaceChildren();
    if (kind === "denied") {
      const all = $("permission-help").content;
      const line = all.querySelector(`[data-browser="${ui.browserFamily()}"]`) || all.querySelector('[data-browser="other"]');
      help.append(line.cloneNode(true));
    }
  }

  function meter(track) {
    const level = $("check-level");
    level.value = 0;
    if (!track) { $("check-heard").textContent = ""; return; }
    state.stopMeter = ui.watchLevel(track, (value) => {
      level.value = value;
      if (value > 0.05 && !state.heard) {
        state.heard = true;
        $("check-heard").textContent = t("We can hear you.");
      }
    });
  }

  async function listDevices() {
    const settingsOf = (kind) => {
      const track = state.stream && state.stream.getTracks().find((tr) => tr.kind === kind);
      return track ? track.getSettings().deviceId : "";
    };
    const cameras = await ui.fillDevices($("check-camera"), "videoinput", settingsOf("video"));
    const mics = await ui.fillDevices($("check-mic"), "audioinput", settingsOf("audio"));
    $("check-camera").disabled = cameras.length < 2;
    $("check-mic").disabled = mics.length < 2;
    if ("setSinkId" in HTMLMediaElement.prototype) {
      const outputs = await ui.fillDevices($("check-speaker"), "audiooutput", ui.savedDevices().audiooutput);
      $("check-speaker-pick").hidden = outputs.length < 2;
      $("check-speaker").disabled = false;
    }
    if (settingsOf("video")) ui.saveDevice("videoinput", settingsOf("video"));
    if (settingsOf("audio")) ui.saveDevice("audioinput", settingsOf("audio"));
  }

  for (const [id, kind] of [["check-camera", "videoinput"], ["check-mic", "audioinput"]]) {
    $(id).addEventListener("change", (ev) => {
      ui.saveDevice(kind, ev.target.value);
      capture().catch(console.error);
    });
  }
  $("check-speaker").addEventListener("change", (ev) => ui.saveDevice("audiooutput", ev.target.value));

  // a short rising tone through the chosen speaker (an <audio> element can pick its output)
  async function testSound() {
    const Context = window.AudioContext || window.webkitAudioContext;
    state.context = state.context || new Context();
    const ctx = state.context;
    if (ctx.state === "suspended") await ctx.resume();
    const out = ctx.createMediaStreamDestination();
    const player = new Audio();
    player.srcObject = out.stream;
    const sink = ui.savedDevices().audiooutput;
    if (sink && player.setSinkId) await player.setSinkId(sink).catch(() => {});
    await player.play().catch(() => {});
    ui.playTones(ctx, out, [523.25, 659.25, 783.99], { step: 0.25, peak: 0.25, length: 0.4 });
    $("check-sound-note").textContent = t("Did you hear three notes? If not, turn the volume up or choose another speaker.");
    page.dataset.sounds = String(Number(page.dataset.sounds || "0") + 1);
  }
  $("check-sound").addEventListener("click", () => { testSound().catch(console.error); });
  $("check-retry").addEventListener("click", () => { capture().catch(console.error); });
  // the room page opens the devices itself: release them before going there
  for (const id of ["check-continue", "check-skip"]) $(id).addEventListener("click", stop);

  showSchedule();
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    capture().catch((err) => { console.error(err); showProblem(err, new MediaStream()); });
  } else {
    showProblem(null, new MediaStream());
  }
})();
