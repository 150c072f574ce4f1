// Progressive enhancement only; every page works without it. No inline handlers (CSP).
// The language switch is two buttons in the header: nothing submits it but a press (WCAG 3.2.2).

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
