// Playback: peaks.js draws the precomputed waveform (never decoding the file in the browser),
// with the speaker marks as points and the lawful pauses as segments; jump to a mark, speed,
// solo one microphone, and a video beside the audio kept in step.
(function () {
  "use strict";

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
      points: data.marks.map((m) => ({ time: m.time, labelText: m.label, color: "#0b5394" })),
      segments: data.pauses.map((p) => ({
        startTime: p.start, endTime: Math.max(p.end, p.start + 0.05), labelText: p.label, color: "#c58b00",
      })),
    };
    window.peaks.init(options, (error, instance) => {
      if (error) { player.dataset.waveform = "error"; console.error(error); return; }
      player.dataset.waveform = "ready";
      window.taspaPeaks = instance;
    });
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
    const now = document.getElementById("now");
    audio.addEventListener("timeupdate", () => { now.textContent = (now.dataset.format || "{n} s").replace("{n}", audio.currentTime.toFixed(1)); });
  });
})();
