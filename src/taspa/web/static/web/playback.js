// Playback: peaks.js draws the precomputed waveform (never decoding the file in the browser),
// with the speaker marks as points and the lawful pauses as segments; jump to a mark, speed,
// solo one microphone, and a video beside the audio kept in step. For hours-long recordings:
// hh:mm:ss everywhere, zoom in and out, skip keys (←/→ 5 s, Shift+←/→ 30 s, N/P the next or
// previous mark) and a filter over the marks by speaker or text.
(function () {
  "use strict";

  function hms(seconds) {
    const whole = Math.max(0, Math.floor(seconds || 0));
    const pad = (n) => String(n).padStart(2, "0");
    return `${pad(Math.floor(whole / 3600))}:${pad(Math.floor(whole % 3600 / 60))}:${pad(whole % 60)}`;
  }

  function timeline() {
    const el = document.getElementById("timeline-data");
    return el ? JSON.parse(el.textContent) : { marks: [], pauses: [] };
  }

  function zoomLevels(finest) {
    const levels = [];
    for (let level = finest; level <= 16384; level *= 2) levels.push(level);
    return levels;
  }

  function initPeaks(audio, player) {
    const data = timeline();
    const options = {
      zoomview: { container: document.getElementById("zoomview") },
      overview: { container: document.getElementById("overview") },
      mediaElement: audio,
      dataUri: { json: player.dataset.peaks },
      zoomLevels: zoomLevels(Number(player.dataset.samplesPerPixel)),
      keyboard: false,
      showPlayheadTime: true,
      formatPlayheadTime: hms,
      formatAxisTime: hms,
      points: data.marks.map((m) => ({ time: m.time, labelText: m.label, color: "#0b5394" })),
      segments: data.pauses.map((p) => ({
        startTime: p.start, endTime: Math.max(p.end, p.start + 0.05), labelText: p.label, color: "#c58b00",
      })),
    };
    window.peaks.init(options, (error, instance) => {
      if (error) { player.dataset.waveform = "error"; console.error(error); return; }
      player.dataset.waveform = "ready";
      window.taspaPeaks = instance;
      showZoom(instance);
    });
  }

  function showZoom(instance) {
    const label = document.getElementById("zoom-level");
    if (!label || !instance) return;
    const view = instance.views.getView("zoomview");
    const seconds = view && view.getEndTime ? view.getEndTime() - view.getStartTime() : null;
    label.textContent = seconds ? `${hms(seconds)}` : "";
    document.getElementById("player").dataset.zoom = String(instance.zoom.getZoom());
  }

  function zoom(direction) {
    const instance = window.taspaPeaks;
    if (!instance) return;
    if (direction > 0) instance.zoom.zoomIn(); else instance.zoom.zoomOut();
    showZoom(instance);
  }

  function seek(audio, time) {
    const end = Number.isFinite(audio.duration) ? audio.duration : Infinity;
    audio.currentTime = Math.max(0, Math.min(end, time));
    audio.dispatchEvent(new Event("timeupdate")); // the clock shows the new place at once
  }

  function shownMarks() {
    return Array.from(document.querySelectorAll(".marks-list li"))
      .filter((li) => !li.hidden)
      .map((li) => Number(li.querySelector("button.jump").dataset.time));
  }

  function toMark(audio, step) {
    const now = audio.currentTime;
    const times = shownMarks();
    const target = step > 0
      ? times.find((t) => t > now + 0.25)
      : times.filter((t) => t < now - 1).pop();
    if (target !== undefined) seek(audio, target);
  }

  function filterMarks() {
    const text = document.getElementById("marks-text");
    if (!text) return;
    const speaker = document.getElementById("marks-speaker").value;
    const words = text.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const items = document.querySelectorAll(".marks-list li");
    let shown = 0;
    items.forEach((li) => {
      const ok = (!speaker || li.dataset.speaker === speaker) &&
        words.every((w) => li.dataset.text.includes(w));
      li.hidden = !ok;
      if (ok) shown += 1;
    });
    const count = document.getElementById("marks-count");
    count.textContent = shown === items.length ? String(items.length)
      : count.dataset.format.replace("{shown}", shown).replace("{total}", items.length);
    document.getElementById("marks-none").hidden = shown > 0;
  }

  function onKey(audio, event) {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const big = event.shiftKey ? 30 : 5;
    const actions = {
      ArrowLeft: () => seek(audio, audio.currentTime - big),
      ArrowRight: () => seek(audio, audio.currentTime + big),
      n: () => toMark(audio, 1), N: () => toMark(audio, 1),
      p: () => toMark(audio, -1), P: () => toMark(audio, -1),
      "+": () => zoom(1), "=": () => zoom(1), "-": () => zoom(-1),
      " ": () => { if (audio.paused) audio.play(); else audio.pause(); },
    };
    const act = actions[event.key];
    if (!act) return;
    if (event.key === " " && target.closest && target.closest("button, audio")) return;
    event.preventDefault();
    act();
  }

  function keepVideoInStep(audio, video) {
    if (!video) return;
    audio.addEventListener("play", () => { video.currentTime = audio.currentTime; video.play(); });
    audio.addEventListener("pause", () => video.pause());
    audio.addEventListener("ratechange", () => { video.playbackRate = audio.playbackRate; });
    audio.addEventListener("seeked", () => { video.currentTime = audio.currentTime; });
    audio.addEventListener("timeupdate", () => {
      if (Math.abs(video.currentTime - audio.currentTime) > 0.3) video.currentTime = audio.currentTime;
    });
  }

  function switchSource(audio, url) {
    const at = audio.currentTime, playing = !audio.paused, rate = audio.playbackRate;
    audio.src = url;
    audio.addEventListener("loadedmetadata", () => {
      audio.currentTime = at;
      audio.playbackRate = rate;
      if (playing) audio.play();
    }, { once: true });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const player = document.getElementById("player");
    if (!player) return;
    const audio = document.getElementById("audio");
    initPeaks(audio, player);
    keepVideoInStep(audio, document.getElementById("video"));
    document.getElementById("speed").addEventListener("change", (e) => {
      audio.playbackRate = Number(e.target.value);
    });
    const solo = document.getElementById("solo");
    if (solo) solo.addEventListener("change", (e) => switchSource(audio, e.target.value));
    document.querySelectorAll("button.jump").forEach((button) => {
      button.addEventListener("click", () => {
        audio.currentTime = Number(button.dataset.time);
        audio.play();
      });
    });
    document.querySelectorAll("button[data-skip]").forEach((button) => {
      button.addEventListener("click", () => seek(audio, audio.currentTime + Number(button.dataset.skip)));
    });
    document.getElementById("next-mark").addEventListener("click", () => toMark(audio, 1));
    document.getElementById("prev-mark").addEventListener("click", () => toMark(audio, -1));
    document.getElementById("zoom-in").addEventListener("click", () => zoom(1));
    document.getElementById("zoom-out").addEventListener("click", () => zoom(-1));
    const text = document.getElementById("marks-text");
    if (text) {
      text.addEventListener("input", filterMarks);
      document.getElementById("marks-speaker").addEventListener("change", filterMarks);
    }
    document.addEventListener("keydown", (event) => onKey(audio, event));
    const now = document.getElementById("now");
    const total = (now.textContent.split(" / ")[1] || "").trim();
    const tick = () => {
      now.textContent = `${hms(audio.currentTime)} / ${total || hms(audio.duration)}`;
      now.dataset.seconds = audio.currentTime.toFixed(2);
    };
    audio.addEventListener("timeupdate", tick);
    audio.addEventListener("seeked", tick);
  });
})();
