// The judge's closed-parts page: the player's position as hh:mm:ss, and the buttons that put it
// into a field ("from the current position", "to the current position").
(function () {
  "use strict";
  function hms(seconds) {
    const tenths = Math.floor(seconds * 10 + 1e-6);
    const whole = Math.floor(tenths / 10), tenth = tenths % 10;
    const pad = (n) => String(n).padStart(2, "0");
    const text = pad(Math.floor(whole / 3600)) + ":" + pad(Math.floor((whole % 3600) / 60)) + ":" + pad(whole % 60);
    return tenth ? text + "." + tenth : text;
  }
  document.addEventListener("DOMContentLoaded", function () {
    const audio = document.getElementById("audio");
    if (!audio) return;
    const position = document.getElementById("position");
    const show = () => { if (position) position.textContent = hms(audio.currentTime).split(".")[0]; };
    audio.addEventListener("timeupdate", show);
    audio.addEventListener("seeked", show);
    document.querySelectorAll("[data-take-time]").forEach(function (button) {
      button.addEventListener("click", function () {
        const field = document.getElementById(button.dataset.takeTime);
        if (!field) return;
        field.value = hms(audio.currentTime);
        field.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  });
})();
