/* CCHC: small progressive enhancements; every page works without this file. */
(function () {
  "use strict";
  // <form data-confirm="…">: ask before an irreversible action (freezing a period).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) { return; }
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // One click, one request: a slow link must not send the same change twice.
    var buttons = form.querySelectorAll("button[type=submit]");
    window.setTimeout(function () {
      buttons.forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // Back/forward cache: buttons disabled on the way out are usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[type=submit][disabled]").forEach(function (b) {
      b.disabled = false;
    });
  });
  // A form shown again with an error: bring the first wrong field into view.
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    invalid.focus({ preventScroll: true });
    invalid.scrollIntoView({ block: "center" });
  }
})();
