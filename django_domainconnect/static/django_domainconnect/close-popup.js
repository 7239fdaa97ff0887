// Completion and error pages: when this window was opened as a popup by the Service Provider, close it
// (draft §8.3.5 "SHOULD attempt to close that window"); otherwise offer a Close button only if it can work.
(function () {
  "use strict";
  var button = document.querySelector(".dc-close");
  if (!window.opener) {
    return;
  }
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.close(); });
  }
  window.setTimeout(function () { window.close(); }, 1500);
})();
