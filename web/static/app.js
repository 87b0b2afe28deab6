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
  // Drafts: what was typed into a form is kept in this tab (sessionStorage) when it is sent.
  // If the session had ended, the server sends the officer to log in and back to this page;
  // the draft is put back into the same form, which opens, with a note. A saved change
  // (the page comes back with ?ok=) or a page that already shows the input drops the draft.
  var DRAFT = "cchc-draft:";
  var MAX_AGE_MS = 12 * 60 * 60 * 1000;
  function draftKey(form) { return DRAFT + form.getAttribute("action"); }
  function keep(form) {
    if (form.method.toLowerCase() !== "post" || form.getAttribute("action") === "/login" ||
        form.getAttribute("action") === "/logout") { return; }
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "file" || el.type === "submit") {
        return;
      }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      (fields[el.name] = fields[el.name] || []).push(el.value);
    });
    try {
      window.sessionStorage.setItem(draftKey(form), JSON.stringify({
        page: window.location.pathname, at: Date.now(), fields: fields }));
    } catch (e) { /* storage full or disabled: nothing to keep */ }
  }
  document.addEventListener("submit", function (event) {
    if (event.target instanceof HTMLFormElement && !event.defaultPrevented) {
      keep(event.target);
    }
  });
  function restore() {
    var saved = /[?&]ok=/.test(window.location.search);
    document.querySelectorAll("form[method=post]").forEach(function (form) {
      var raw = null;
      try { raw = window.sessionStorage.getItem(draftKey(form)); } catch (e) { return; }
      if (!raw) { return; }
      window.sessionStorage.removeItem(draftKey(form));
      var draft = JSON.parse(raw);
      if (saved || draft.page !== window.location.pathname ||
          Date.now() - draft.at > MAX_AGE_MS || form.querySelector("[aria-invalid=true]")) {
        return;  // saved, another page, too old, or the server already shows the input
      }
      var typed = false;
      Object.keys(draft.fields).forEach(function (name) {
        var values = draft.fields[name];
        form.querySelectorAll("[name='" + name + "']").forEach(function (el, i) {
          if (el.type === "hidden" && name !== "version") { return; }
          if (el.type === "checkbox" || el.type === "radio") {
            el.checked = values.indexOf(el.value) >= 0;
          } else if (i < values.length) {
            if (el.type !== "hidden" && values[i] && values[i] !== el.value) { typed = true; }
            el.value = values[i];
          }
        });
      });
      if (!typed) { return; }
      var details = form.closest("details");
      if (details) { details.open = true; }
      var note = document.createElement("p");
      note.className = "msg msg-warn draft-note";
      note.setAttribute("role", "status");
      note.textContent = "Đã điền lại nội dung bạn nhập trước khi đăng nhập lại; " +
        "hãy kiểm tra rồi bấm lưu (tệp đính kèm, nếu có, cần chọn lại).";
      form.insertBefore(note, form.firstChild);
      var first = form.querySelector("textarea, input[type=text]");
      if (first) { first.scrollIntoView({ block: "center" }); }
    });
  }
  restore();

  // A form shown again with an error: bring the first wrong field into view.
  var invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) {
    invalid.focus({ preventScroll: true });
    invalid.scrollIntoView({ block: "center" });
  }
})();
