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
