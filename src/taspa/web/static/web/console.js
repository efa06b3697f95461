// The secretary's console: live level meters from the server-sent events (R11), visible and
// audible alarms for silence and clipping, the listening monitor (R11: the live capture as MP3
// from the server, for headphones), and keys 1–9 for the speaker marks (R12).
(function () {
  "use strict";
  const FLOOR = -60; // dBFS at the meter's left edge
  let source = null;
  let audio = null;
  let lastBeep = 0;

  function root() { return document.getElementById("console"); }
  function state() {
    const controls = document.querySelector("#controls .controls");
    return controls ? controls.dataset.state : "";
  }

  function percent(db) { return Math.max(0, Math.min(100, (db - FLOOR) / -FLOOR * 100)); }

  function row(meters, channel, index) {
    let el = meters.querySelector(`[data-channel="${index}"]`);
    if (el) return el;
    el = document.createElement("div");
    el.className = "meter";
    el.dataset.channel = index;
    el.innerHTML = `<span class="name"></span><span class="bar" role="meter" aria-valuemin="${FLOOR}"
      aria-valuemax="0"><span class="cover"></span><span class="peak"></span></span>
      <span class="value"></span><span class="flags"></span>`;
    el.querySelector(".name").textContent = channel.name;
    el.querySelector(".bar").setAttribute("aria-label", channel.name);
    meters.appendChild(el);
    return el;
  }

  function show(data) {
    const meters = document.getElementById("meters");
    const idle = document.getElementById("meters-idle");
    if (idle) idle.remove();
    const alarms = [];
    data.channels.forEach((channel, index) => {
      const el = row(meters, channel, index);
      el.querySelector(".cover").style.left = percent(channel.rms_dbfs) + "%";
      el.querySelector(".peak").style.left = percent(channel.peak_dbfs) + "%";
      el.querySelector(".bar").setAttribute("aria-valuenow", channel.rms_dbfs);
      el.querySelector(".value").textContent = channel.rms_dbfs.toFixed(1) + " dBFS";
      el.dataset.rms = channel.rms_dbfs;
      const flags = [];
      if (channel.silent) flags.push(meters.dataset.silent);
      if (channel.clipping) flags.push(meters.dataset.clipping);
      el.querySelector(".flags").textContent = flags.join(" · ");
      el.classList.toggle("alarm", flags.length > 0);
      if (flags.length) alarms.push(`${channel.name}: ${flags.join(", ")}`);
    });
    meters.dataset.updates = String(Number(meters.dataset.updates) + 1);
    const alarm = document.getElementById("alarm");
    alarm.hidden = alarms.length === 0;
    alarm.textContent = alarms.join("; ");
    if (alarms.length && state() === "recording") beep();
  }

  function beep() {
    const now = Date.now();
    if (!audio || now - lastBeep < 2000) return;
    lastBeep = now;
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.2;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
    const meters = document.getElementById("meters");
    meters.dataset.beeps = String(Number(meters.dataset.beeps || 0) + 1);
  }

  // --- the listening monitor ------------------------------------------------------------------
  const MAX_LAG = 2.5; // seconds of sound buffered in the browser before it skips ahead
  let listening = false;
  let retry = null;

  function monitor() { return document.getElementById("monitor"); }
  function player() { return document.getElementById("monitor-audio"); }

  function say(status, text) {
    const box = monitor();
    box.dataset.state = status;
    document.getElementById("monitor-status").textContent = text;
  }

  function press(on) {
    const button = document.getElementById("btn-listen");
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.querySelector(".label").textContent = on ? monitor().dataset.stop : monitor().dataset.listen;
  }

  function listen() {
    const box = monitor();
    listening = true;
    clearTimeout(retry);
    press(true);
    say("connecting", box.dataset.connecting);
    const audio = player();
    audio.src = `${box.dataset.url}?t=${Date.now()}`;
    audio.play().catch(() => {});
  }

  function silence(status, text) {
    listening = false;
    clearTimeout(retry);
    const audio = player();
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    press(false);
    say(status, text);
  }

  function lag() {
    // How far the browser plays behind what has arrived; skip ahead when it grows.
    const audio = player();
    if (!listening || audio.paused || !audio.buffered.length) return;
    const end = audio.buffered.end(audio.buffered.length - 1);
    if (end - audio.currentTime > MAX_LAG) audio.currentTime = end - 0.3;
    const behind = Math.max(0, end - audio.currentTime);
    monitor().dataset.lag = behind.toFixed(2);
    if (monitor().dataset.state === "on") {
      say("on", monitor().dataset.on.replace("{lag}", behind.toFixed(1)));
    }
  }

  function setUpMonitor() {
    const box = monitor();
    if (!box) return;
    const audio = player();
    document.getElementById("btn-listen").addEventListener("click", () => {
      if (listening) silence("off", box.dataset.ready); else listen();
    });
    audio.addEventListener("playing", () => { if (listening) say("on", box.dataset.on.replace("{lag}", "0.0")); });
    audio.addEventListener("waiting", () => { if (listening) say("waiting", box.dataset.waiting); });
    const again = () => {
      if (!listening) return;
      if (!["recording", "paused"].includes(state())) { silence("ended", box.dataset.ended); return; }
      say("waiting", box.dataset.waiting);
      retry = setTimeout(listen, 2000);
    };
    audio.addEventListener("ended", again);
    audio.addEventListener("error", again);
    setInterval(lag, 500);
  }

  function monitorFollows(live) {
    const box = monitor();
    if (!box) return;
    document.getElementById("btn-listen").disabled = !live;
    if (!live && listening) silence("ended", box.dataset.ended);
    else if (!listening && box.dataset.state !== "ended") {
      say(live ? "off" : "idle", live ? box.dataset.ready : box.dataset.idle);
    }
  }

  function connect() {
    const live = ["recording", "paused"].includes(state());
    monitorFollows(live);
    if (live && !source) {
      source = new EventSource(root().dataset.levelsUrl);
      source.onmessage = (event) => show(JSON.parse(event.data));
      source.addEventListener("end", disconnect);
    } else if (!live && source) {
      disconnect();
    }
  }

  function disconnect() { if (source) { source.close(); source = null; } }

  function unlockAudio() {
    // Browsers allow sound only after a gesture: the first click or key opens the audio.
    if (!audio && window.AudioContext) audio = new AudioContext();
  }

  function onKey(event) {
    const target = event.target;
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const button = document.querySelector(`.mark-buttons button[data-key="${event.key}"]`);
    if (button) { event.preventDefault(); button.click(); }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!root()) return;
    setUpMonitor();
    connect();
    document.body.addEventListener("htmx:afterSwap", connect);
    document.addEventListener("keydown", onKey);
    document.addEventListener("keydown", unlockAudio);
    document.addEventListener("click", unlockAudio);
  });
})();
