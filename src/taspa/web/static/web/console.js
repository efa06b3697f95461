// The secretary's console: live level meters from the server-sent events (R11), visible and
// audible alarms for silence and clipping, the listening monitor (R11: the live capture as MP3
// from the server, for headphones), and keys 1–9 for the speaker marks (R12).
// It also watches its own connection: a heartbeat to the server every 1.5 s and the level
// stream; when either is gone a role="alert" banner says so within 5 s and every button is off
// until it is back. An answer that is a login page, a 401 or a 403 never replaces the controls.
(function () {
  "use strict";
  const FLOOR = -60; // dBFS at the meter's left edge
  const BEAT_MS = 1500; // heartbeat period
  const LOST_MS = 3500; // no answer for this long: the connection is lost (banner within 5 s)
  const STALE_MS = 3500; // no levels for this long while recording: the stream is lost
  let source = null;
  let audio = null;
  let lastBeep = 0;
  let lastLevels = 0;

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

  function zeroMeters() {
    // Paused, stopped or cut off: the meters show nothing, never the last level they had.
    const meters = document.getElementById("meters");
    if (!meters) return;
    meters.querySelectorAll(".meter").forEach((el) => {
      el.querySelector(".cover").style.left = "0%";
      el.querySelector(".peak").style.left = "0%";
      el.querySelector(".bar").setAttribute("aria-valuenow", String(FLOOR));
      el.querySelector(".value").textContent = "—";
      el.querySelector(".flags").textContent = "";
      el.classList.remove("alarm");
      el.dataset.rms = String(FLOOR);
    });
    meters.dataset.zeroed = "1";
    const alarm = document.getElementById("alarm");
    alarm.hidden = true;
    alarm.textContent = "";
  }

  function show(data) {
    lastLevels = Date.now();
    // R11: no fresh levels from where the capture runs (the courtroom computer's link is down):
    // the meters show nothing rather than the last level they had, and the banner says why.
    const down = data.link === "down" && state() === "recording";
    if (down !== link.roomDown) { link.roomDown = down; render(); }
    if (state() !== "recording" || down) { zeroMeters(); return; }
    const meters = document.getElementById("meters");
    meters.dataset.zeroed = "0";
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
    meters.dataset.audio = audio.state; // "running": the beep is actually audible
  }

  // --- the listening monitor (R11) ------------------------------------------------------------
  // The server streams MP3 while the capture grows. Media Source Extensions take each chunk as it
  // arrives (a plain <audio src> reads the network in 32 KB blocks: four seconds at 64 kbit/s),
  // and the player skips ahead whenever more than MAX_LAG seconds wait in its buffer.
  const MAX_LAG = 1.0;
  const KEEP_S = 30; // seconds of sound already played that stay in the buffer
  let listening = false;
  let retry = null;
  let session = null;

  function monitor() { return document.getElementById("monitor"); }
  function player() { return document.getElementById("monitor-audio"); }

  function say(status, text) {
    monitor().dataset.state = status;
    document.getElementById("monitor-status").textContent = text;
  }

  function press(on) {
    const button = document.getElementById("btn-listen");
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.querySelector(".label").textContent = on ? monitor().dataset.stop : monitor().dataset.listen;
  }

  function hangUp() {
    if (session) session.controller.abort();
    session = null;
  }

  function listen() {
    const box = monitor();
    listening = true;
    clearTimeout(retry);
    hangUp();
    press(true);
    say("connecting", box.dataset.connecting);
    const url = `${box.dataset.url}?t=${Date.now()}`;
    if (window.MediaSource && MediaSource.isTypeSupported("audio/mpeg")) {
      stream(url);
    } else {
      player().src = url;
      player().play().catch(() => {});
    }
  }

  function stream(url) {
    const audio = player();
    const media = new MediaSource();
    const current = { controller: new AbortController(), media, buffer: null, queue: [], done: false };
    session = current;
    audio.src = URL.createObjectURL(media);
    media.addEventListener("sourceopen", async () => {
      URL.revokeObjectURL(audio.src);
      current.buffer = media.addSourceBuffer("audio/mpeg");
      current.buffer.mode = "sequence";
      current.buffer.addEventListener("updateend", () => pump(current));
      try {
        const response = await fetch(url, { signal: current.controller.signal, cache: "no-store" });
        if (!response.ok) {
          const reason = (await response.text()).trim();
          if (session === current) silence("refused", reason || String(response.status));
          return;
        }
        audio.play().catch(() => {});
        const reader = response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          current.queue.push(value);
          pump(current);
        }
        current.done = true;
        pump(current);
      } catch (error) {
        if (session === current) again();
      }
    }, { once: true });
  }

  function pump(current) {
    const { buffer, media, queue } = current;
    if (!buffer || buffer.updating || media.readyState !== "open") return;
    if (queue.length) {
      buffer.appendBuffer(queue.length === 1 ? queue.shift() : join(queue.splice(0)));
      return;
    }
    const played = player().currentTime - KEEP_S;
    if (played > 0 && buffer.buffered.length && buffer.buffered.start(0) < played) {
      buffer.remove(0, played);
    } else if (current.done) {
      media.endOfStream();
    }
  }

  function join(chunks) {
    const whole = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
    let at = 0;
    for (const c of chunks) { whole.set(c, at); at += c.length; }
    return whole;
  }

  function silence(status, text) {
    listening = false;
    clearTimeout(retry);
    hangUp();
    const audio = player();
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    press(false);
    say(status, text);
  }

  function again() {
    // The stream ended or broke: listen again while the hearing is live, else say it stopped.
    if (!listening) return;
    const box = monitor();
    if (!["recording", "paused"].includes(state())) { silence("ended", box.dataset.ended); return; }
    say("waiting", box.dataset.waiting);
    clearTimeout(retry);
    retry = setTimeout(listen, 2000);
  }

  function lag() {
    // How far the browser plays behind what has arrived; skip ahead when it grows.
    const audio = player();
    if (!listening || audio.paused || !audio.buffered.length) return;
    const end = audio.buffered.end(audio.buffered.length - 1);
    if (end - audio.currentTime > MAX_LAG) audio.currentTime = end - 0.2;
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
    audio.addEventListener("playing", () => {
      if (listening) say("on", box.dataset.on.replace("{lag}", box.dataset.lag || "0.0"));
    });
    audio.addEventListener("waiting", () => { if (listening) say("waiting", box.dataset.waiting); });
    audio.addEventListener("ended", again);
    audio.addEventListener("error", again);
    setInterval(lag, 250);
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
    if (state() !== "recording") zeroMeters();
    syncClock();
    if (live && !source) {
      lastLevels = Date.now();
      source = new EventSource(root().dataset.levelsUrl);
      source.onmessage = (event) => show(JSON.parse(event.data));
      source.onopen = () => { lastLevels = Date.now(); };
      source.addEventListener("end", disconnect);
    } else if (!live && source) {
      disconnect();
    }
    if (!link.online || link.signedOut) disableControls(true);
  }

  function disconnect() {
    if (source) { source.close(); source = null; }
    if (link.roomDown) { link.roomDown = false; render(); }
  }

  // --- the elapsed-time counter: recording time without the lawful pauses, from the server ---
  const clockBase = { recorded: 0, at: 0, running: false };

  function hms(seconds) {
    const whole = Math.max(0, Math.floor(seconds));
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor(whole % 3600 / 60))}:${pad(whole % 60)}`;
  }

  function setClock(recorded, running) {
    clockBase.recorded = recorded;
    clockBase.at = performance.now();
    clockBase.running = running;
    tickClock();
  }

  function syncClock() {
    const controls = document.querySelector("#controls .controls");
    if (controls && controls.dataset.recorded !== undefined) {
      setClock(Number(controls.dataset.recorded), controls.dataset.running === "1");
    }
  }

  function tickClock() {
    const el = document.getElementById("elapsed");
    if (!el) return;
    // While the server cannot be reached the counter stands: it shows what the server said.
    const running = clockBase.running && link.online && !link.signedOut;
    const value = clockBase.recorded + (running ? (performance.now() - clockBase.at) / 1000 : 0);
    el.textContent = hms(value);
    el.dataset.running = running ? "1" : "0";
    el.dataset.seconds = value.toFixed(1);
    // R32 for part of a hearing: how long the closed session has been going on
    const closed = document.getElementById("closed-running");
    if (closed) closed.textContent = hms(Date.now() / 1000 - Number(closed.dataset.since));
  }

  // --- the connection: heartbeat, level stream, the session -----------------------------------
  const link = { online: true, signedOut: false, streamLost: false, roomDown: false, refused: false, lastOk: Date.now() };

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function disableControls(off) {
    document.querySelectorAll("#controls button, #controls input, #controls select, #controls textarea, #timeline button, #timeline input").forEach((el) => {
      if (off) {
        if (!el.disabled) { el.disabled = true; el.dataset.offline = "1"; }
      } else if (el.dataset.offline) {
        el.disabled = false;
        delete el.dataset.offline;
      }
    });
    root().dataset.disabled = off ? "1" : "0";
  }

  function render() {
    const banner = document.getElementById("connection");
    const text = document.getElementById("connection-text");
    const login = document.getElementById("connection-login");
    const badge = document.getElementById("link");
    let message = "";
    let kind = "";
    if (link.signedOut) { message = banner.dataset.signedOut; kind = "signed-out"; }
    else if (!link.online) { message = banner.dataset.lost; kind = "lost"; }
    else if (link.streamLost) { message = banner.dataset.stream; kind = "stream"; }
    else if (link.roomDown && banner.dataset.room) { message = banner.dataset.room; kind = "room"; }
    else if (link.roomDown) { message = banner.dataset.stream; kind = "stream"; }
    else if (link.refused) { message = banner.dataset.refused; kind = "refused"; }
    const blocked = link.signedOut || !link.online;
    if (banner.dataset.kind !== kind) {
      banner.dataset.kind = kind;
      banner.hidden = !kind;
      text.textContent = message;
      login.hidden = !link.signedOut;
    }
    badge.dataset.state = blocked ? "offline" : "online";
    badge.textContent = blocked ? badge.dataset.offline : badge.dataset.online;
    if (blocked) zeroMeters();
    if (blocked) agentUnknown();
    disableControls(blocked);
    tickClock();
  }

  // The courtroom computer's panel says what the server last heard from it. Once this page has
  // lost the server (or its session) nobody here knows: the panel says so with the banner, and
  // the next answer of the server (its poll, every second) says again what it knows.
  function agentUnknown() {
    const panel = document.querySelector("#agent .agent");
    if (!panel || panel.dataset.online === "unknown") return;
    panel.dataset.online = "unknown";
    const said = panel.querySelector(".agent-link");
    if (said) { said.textContent = said.dataset.unknown; said.className = "agent-link bad unknown"; }
  }

  function refreshControls() {
    if (!window.htmx) return;
    window.htmx.ajax("GET", root().dataset.controlsUrl, { target: "#controls", swap: "innerHTML" });
  }

  async function beat() {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), LOST_MS - 500);
    try {
      const response = await fetch(root().dataset.stateUrl, {
        headers: { "X-Taspa-Console": "1" }, cache: "no-store", signal: controller.signal,
        redirect: "manual", credentials: "same-origin",
      });
      if (response.status === 401 || response.status === 403 || response.type === "opaqueredirect") {
        link.lastOk = Date.now();
        link.online = true;
        link.signedOut = true;
        render();
        return;
      }
      if (!response.ok) return; // 5xx: no heartbeat; the watch says "lost" if it lasts
      const answer = await response.json();
      const wasBlocked = !link.online || link.signedOut;
      link.lastOk = Date.now();
      link.online = true;
      link.signedOut = false;
      setClock(answer.recorded_s, answer.running);
      render();
      if (wasBlocked || answer.state !== state()) refreshControls();
    } catch (error) {
      // no answer: the watch below turns this into "lost" once it lasts LOST_MS
    } finally {
      clearTimeout(timer);
    }
  }

  function watch() {
    const now = Date.now();
    const online = now - link.lastOk < LOST_MS;
    const streamLost = state() === "recording" && (
      !source || source.readyState !== EventSource.OPEN || now - lastLevels > STALE_MS);
    if (online !== link.online || streamLost !== link.streamLost) {
      link.online = online;
      link.streamLost = streamLost;
      if (!online && source) { disconnect(); } // it reconnects with the heartbeat
      render();
    }
    if (online && !source && ["recording", "paused"].includes(state())) connect();
    tickClock();
  }

  function guardSwaps() {
    // The page's own requests carry the current CSRF token (a sign-in elsewhere renews it).
    document.body.addEventListener("htmx:configRequest", (event) => {
      event.detail.headers["X-CSRFToken"] = csrfToken();
      event.detail.headers["X-Taspa-Console"] = "1";
    });
    document.body.addEventListener("htmx:beforeRequest", (event) => {
      // Nothing leaves while the server is unreachable or the session is gone; the timeline
      // waits while a correction is being typed into it.
      const target = event.detail.target;
      const poll = target && (target.id === "timeline" || target.id === "agent");
      if (!poll && (!link.online || link.signedOut)) { event.preventDefault(); return; }
      if (target && target.id === "timeline" && target.querySelector("details.correct[open]")) {
        event.preventDefault();
      }
    });
    document.body.addEventListener("htmx:beforeSwap", (event) => {
      const xhr = event.detail.xhr;
      const url = xhr.responseURL || "";
      const loginPath = root().dataset.loginUrl;
      if (xhr.status === 401 || (loginPath && new URL(url, location.href).pathname === loginPath)) {
        event.detail.shouldSwap = false;
        event.detail.isError = false;
        link.signedOut = true;
        render();
      } else if (xhr.status === 403) {
        event.detail.shouldSwap = false;
        event.detail.isError = false;
        link.refused = true;
        render();
      } else if (xhr.status >= 400) {
        event.detail.shouldSwap = false;
      } else if (link.refused && event.detail.target && event.detail.target.id === "controls") {
        link.refused = false;
        render();
      }
    });
    document.body.addEventListener("htmx:sendError", () => {
      link.lastOk = 0; // the server did not answer at all: say so now
      watch();
    });
  }

  function setUpConnection() {
    guardSwaps();
    syncClock();
    beat();
    setInterval(beat, BEAT_MS);
    setInterval(watch, 500);
  }

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
    setUpConnection();
    connect();
    document.body.addEventListener("htmx:afterSwap", connect);
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target && event.detail.target.id === "agent" && (link.signedOut || !link.online)) agentUnknown();
    });
    // R8: a refused reason to start without a check puts the cursor back in its field.
    document.body.addEventListener("htmx:afterSwap", () => {
      if (document.getElementById("override-error")) document.getElementById("override-reason").focus();
    });
    document.addEventListener("keydown", onKey);
    document.addEventListener("keydown", unlockAudio);
    document.addEventListener("click", unlockAudio);
  });
})();
