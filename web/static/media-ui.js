// Counsel Room: helpers for media.js — capture constraints, device lists and speaking meters.
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

  function showSpeaking(figure, speaking) {
    figure.classList.toggle("speaking", speaking);
    let badge = figure.querySelector(".speaking-badge");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "speaking-badge";
      badge.setAttribute("role", "img");
      badge.setAttribute("aria-label", "speaking");
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
      option.textContent = d.label || `${kind === "audioinput" ? "Microphone" : "Camera"} ${i + 1}`;
      return option;
    }));
    if (currentId) select.value = currentId;
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

  return { AUDIO, watchSpeaking, showSpeaking, fillDevices, constraints, mixVolumes };
})();
