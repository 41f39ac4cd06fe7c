// Counsel Room: helpers for media.js and device-check.js — capture constraints, the devices
// chosen on the device check (kept in localStorage), device lists, speaking meters, and what a
// refused getUserMedia means.
"use strict";
window.CounselMedia = (function () {
  // Speech goes to transcription, so the browser must not reshape it: noise suppression and
  // automatic gain change the speech envelope. Echo cancellation stays on, or a person on a
  // loudspeaker would send the others' voices back (and get them transcribed as theirs).
  const AUDIO = { echoCancellation: true, noiseSuppression: false, autoGainControl: false };
  const SPEAKING_RMS = 0.01;   // about -40 dBFS
  const SPEAKING_HOLD_MS = 400;

  let context = null;
  function audioContext() {
    if (!context && window.AudioContext) {
      context = new AudioContext();
      // autoplay policies may start it suspended: resume on the first key or click
      const resume = () => { if (context.state === "suspended") context.resume().catch(() => {}); };
      for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, resume, { capture: true });
    }
    return context;
  }

  // Calls onChange(true/false) as the track's level crosses the speaking threshold; returns stop().
  function watchSpeaking(track, onChange) {
    const ctx = audioContext();
    if (!ctx || track.kind !== "audio") return () => {};
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let speaking = false;
    let lastLoud = 0;
    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const now = performance.now();
      if (track.enabled && Math.sqrt(sum / samples.length) > SPEAKING_RMS) lastLoud = now;
      const next = now - lastLoud < SPEAKING_HOLD_MS;
      if (next !== speaking) { speaking = next; onChange(speaking); }
    }, 100);
    const stop = () => {
      clearInterval(timer);
      source.disconnect();
      if (speaking) onChange(false);
    };
    track.addEventListener("ended", stop, { once: true });
    return stop;
  }

  // Calls onLevel(0..1) about ten times a second with the track's loudness; returns stop().
  function watchLevel(track, onLevel) {
    const ctx = audioContext();
    if (!ctx || track.kind !== "audio") return () => {};
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      onLevel(Math.min(1, Math.sqrt(sum / samples.length) * 4));
    }, 100);
    return () => { clearInterval(timer); source.disconnect(); };
  }

  function showSpeaking(figure, speaking) {
    figure.classList.toggle("speaking", speaking);
    let badge = figure.querySelector(".speaking-badge");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "speaking-badge";
      badge.setAttribute("role", "img");
      badge.setAttribute("aria-label", t("speaking"));
      figure.append(badge);
    }
    badge.hidden = !speaking;
  }

  // Fills a <select> with the devices of one kind ("audioinput"/"videoinput").
  async function fillDevices(select, kind, currentId) {
    const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind);
    select.replaceChildren(...devices.map((d, i) => {
      const option = document.createElement("option");
      option.value = d.deviceId;
      const number = { number: i + 1 };
      option.textContent = d.label || (kind === "audioinput" ? t("Microphone %(number)s", number)
        : kind === "audiooutput" ? t("Speaker %(number)s", number) : t("Camera %(number)s", number));
      return option;
    }));
    if (currentId && devices.some((d) => d.deviceId === currentId)) select.value = currentId;
    select.disabled = devices.length < 2;
    return devices;
  }

  function constraints(kind, deviceId) {
    const base = kind === "audio" ? { ...AUDIO } : {};
    if (deviceId) base.deviceId = { exact: deviceId };
    return kind === "audio" ? { audio: base } : { video: Object.keys(base).length ? base : true };
  }

  // Interpretation: how loud the original voices and the interpreter play for one listener.
  // mode: "both" (the original lowered), "interpreter" or "original"; without an interpreter on
  // the listener's channel everything plays as usual.
  const DUCKED = 0.25;
  function mixVolumes(mode, interpreted) {
    if (!interpreted) return { original: 1, interpreter: 1 };
    if (mode === "interpreter") return { original: 0, interpreter: 1 };
    if (mode === "original") return { original: 1, interpreter: 0 };
    return { original: DUCKED, interpreter: 1 };
  }

  // -- the devices chosen on the device check page (or switched to in the room) -----------------
  const DEVICES_KEY = "counsel.devices";
  function savedDevices() {
    try { return JSON.parse(localStorage.getItem(DEVICES_KEY) || "{}") || {}; } catch (e) { return {}; }
  }
  function saveDevice(kind, deviceId) {
    const all = savedDevices();
    all[kind] = deviceId;
    try { localStorage.setItem(DEVICES_KEY, JSON.stringify(all)); } catch (e) { /* private mode */ }
  }
  // the first capture: the chosen devices if they are still there ("ideal": else any)
  function startConstraints(withVideo) {
    const saved = savedDevices();
    const audio = { ...AUDIO };
    if (saved.audioinput) audio.deviceId = { ideal: saved.audioinput };
    let video = false;
    if (withVideo) video = saved.videoinput ? { deviceId: { ideal: saved.videoinput } } : true;
    return { audio, video };
  }

  const CORNER_KEY = "counsel.selfViewCorner";
  function savedCorner() {
    try { return localStorage.getItem(CORNER_KEY); } catch (e) { return null; }
  }
  function saveCorner(corner) {
    try { localStorage.setItem(CORNER_KEY, corner); } catch (e) { /* private mode */ }
  }

  // why getUserMedia failed: "denied" (the person or the browser refused), "missing" (no such
  // device), "busy" (another program holds it)
  function problemKind(err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") return "denied";
    if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") return "busy";
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "denied";
    return "missing";
  }

  function browserFamily() {
    const agent = navigator.userAgent;
    if (/Firefox\//.test(agent)) return "firefox";
    if (/Edg\/|Chrome\/|Chromium\/|CriOS\//.test(agent)) return "chrome";
    if (/Safari\//.test(agent)) return "safari";
    return "other";
  }

  // "Nguyen Van An" -> "NA"; one letter for a one-word name
  function initials(name) {
    const words = String(name || "").trim().split(/\s+/).filter(Boolean);
    if (!words.length) return "?";
    const letters = [words[0], words.length > 1 ? words[words.length - 1] : ""]
      .map((w) => Array.from(w)[0] || "").join("");
    return letters.toLocaleUpperCase();
  }

  function micOffIcon(label) {
    const icon = document.createElement("span");
    icon.className = "mic-off-icon";
    icon.setAttribute("role", "img");
    icon.setAttribute("aria-label", label);
    icon.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><rect x="9" y="3" width="6" height="11" rx="3"/>'
      + '<path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21" fill="none"/><path d="M3.5 3.5 20.5 20.5"/></svg>';
    return icon;
  }

  // Notes one after another (WebAudio), each rising fast and fading out over `length` seconds:
  // the device check's test sound and the host's chime when someone starts waiting.
  function playTones(ctx, destination, frequencies, { step, peak, length }) {
    const start = ctx.currentTime + 0.05;
    frequencies.forEach((frequency, i) => {
      const at = start + i * step;
      const tone = ctx.createOscillator();
      const gain = ctx.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(peak, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + length);
      tone.connect(gain).connect(destination);
      tone.start(at);
      tone.stop(at + length + 0.05);
    });
  }

  return { AUDIO, watchSpeaking, watchLevel, showSpeaking, fillDevices, constraints, mixVolumes, savedDevices,
    saveDevice, startConstraints, savedCorner, saveCorner, problemKind, browserFamily, initials,
    micOffIcon, playTones };
})();
