// Progressive enhancement only; every page works without it. No inline handlers (CSP).
document.addEventListener("DOMContentLoaded", function () {
  // Submitting the language switch on change is a convenience; the button stays for keyboards.
  var language = document.getElementById("language");
  if (language) {
    language.addEventListener("change", function () { language.form.submit(); });
  }
});

// Irreversible steps ask before they go: a form, or the button that submits it, carries
// data-confirm="what will happen"; cancelling the question sends nothing.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var submitter = event.submitter;
  var question = (submitter && submitter.dataset && submitter.dataset.confirm) ||
    (form.dataset && form.dataset.confirm);
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// --- issue #19, ombud: Enter does not send an application -----------------------------------
// In a form marked data-no-enter-submit, Enter in a one-line field does nothing: the form is
// sent with its buttons only (a half-typed application is not submitted by accident). A
// textarea keeps its new lines; buttons and links keep Enter.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Enter" || event.defaultPrevented || event.isComposing) {
    return;
  }
  var field = event.target;
  if (!field || field.tagName !== "INPUT" || !field.form ||
      !field.form.hasAttribute("data-no-enter-submit")) {
    return;
  }
  var type = (field.getAttribute("type") || "text").toLowerCase();
  if (type === "submit" || type === "button" || type === "reset" || type === "image") {
    return;
  }
  event.preventDefault();
});
