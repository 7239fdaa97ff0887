// Completion and error pages: try to close the window (draft §8.3.5 "SHOULD attempt to close that window").
// Browsers let a script close only a window that a script opened (the Service Provider's popup); in a
// normal tab the call does nothing and the page stays. Cross-Origin-Opener-Policy hides window.opener,
// so we cannot tell the cases apart beforehand: we simply try.
(function () {
  "use strict";
  var button = document.querySelector(".dc-close");
  if (button) {
    button.addEventListener("click", function () { window.close(); });
    button.hidden = !window.opener;
  }
  window.setTimeout(function () { window.close(); }, 1500);
})();
