// Progressive enhancement only; every page works without it. No inline handlers (CSP).
// The language switch is two buttons in the header: nothing submits it but a press (WCAG 3.2.2).

// Irreversible steps ask before they go: a form, or the button that submits it, carries
// data-confirm="what will happen"; cancelling the question sends nothing. The listener runs
// in the capture phase, before htmx's own listener on a form that posts by htmx, and stops
// the event there when the answer is no (otherwise htmx would post anyway).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var submitter = event.submitter;
  var question = (submitter && submitter.dataset && submitter.dataset.confirm) ||
    (form.dataset && form.dataset.confirm);
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopPropagation();
  }
}, true);

// Issue #19, search: the worklist's "choose all on this page" checkbox. It is hidden until
// this script runs (without it, each row is chosen by itself); delegated, so it keeps working
// after htmx swaps the table in.
function showPickAll(root) {
  root.querySelectorAll("[data-pick-all]").forEach(function (box) { box.hidden = false; });
}
document.addEventListener("DOMContentLoaded", function () { showPickAll(document); });
document.addEventListener("htmx:afterSwap", function (event) { showPickAll(event.target); });
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches) { return; }
  if (box.matches("[data-pick-all]")) {
    box.form.querySelectorAll('input[name="applications"]').forEach(function (row) {
      row.checked = box.checked;
    });
  } else if (box.matches('input[name="applications"]') && box.form) {
    var all = box.form.querySelector("[data-pick-all]");
    var rows = box.form.querySelectorAll('input[name="applications"]');
    var picked = box.form.querySelectorAll('input[name="applications"]:checked');
    if (all) {
      all.checked = rows.length > 0 && picked.length === rows.length;
      all.indeterminate = picked.length > 0 && picked.length < rows.length;
    }
  }
});

// --- #19 decide: the decision button's question says what the chosen verdicts decide -------
// The server renders the question's pieces in the page's language (data-confirm-template,
// data-granted-one/-other, data-rejected-one/-other with {n}, {amount} and {summary} open).
// Run on load and again when htmx swaps in a new page (#19 loads: the form is a new one).
function watchDecisionForm() {
  var form = document.getElementById("decision-form");
  var button = form && form.querySelector("button[data-confirm-template]");
  if (!button || form.dataset.watched) { return; }
  form.dataset.watched = "true";
  var money = new Intl.NumberFormat(document.documentElement.lang || "sv", {
    style: "currency", currency: "SEK"
  });
  function amountOf(text) {
    var value = parseFloat(String(text || "").replace(/\s/g, "").replace(",", "."));
    return isNaN(value) ? 0 : value;
  }
  function piece(kind, n, amount) {
    var text = button.dataset[kind + (n === 1 ? "One" : "Other")] || "";
    return text.replace("{n}", String(n)).replace("{amount}", money.format(amount));
  }
  function update() {
    var granted = 0, rejected = 0, total = 0;
    form.querySelectorAll("fieldset.decision-item").forEach(function (item) {
      var verdict = item.querySelector("select[name$='-verdict']");
      var choice = verdict ? verdict.value : "";
      if (choice === "approve") {
        granted += 1; total += amountOf(item.dataset.grantable);
      } else if (choice === "reduce") {
        granted += 1; total += amountOf((item.querySelector("input[name$='-amount']") || {}).value);
      } else if (choice === "reject") {
        rejected += 1;
      }
    });
    if (!granted && !rejected) { return; }
    var parts = [];
    if (granted) { parts.push(piece("granted", granted, total)); }
    if (rejected) { parts.push(piece("rejected", rejected, 0)); }
    button.dataset.confirm = button.dataset.confirmTemplate.replace("{summary}", parts.join(", "));
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
}
document.addEventListener("DOMContentLoaded", watchDecisionForm);
document.addEventListener("htmx:afterSettle", watchDecisionForm);

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

// --- issue #19, loads: the application page's forms post by htmx and swap in <main> -----------
// A form with hx-target="#main" (web/partials/swap_main.html) is answered with the whole page.
// htmx swaps no 4xx answer by default; here a refusal (400 with what was typed and every
// problem at its field, 403 or 409 with the reason, a 404 page with a way back) is what the
// user must see, exactly as a full load would show it, so it is swapped in too. The status
// stays what it says; answers aimed anywhere else keep htmx's default.
document.addEventListener("htmx:beforeSwap", function (event) {
  var detail = event.detail;
  var status = detail.xhr ? detail.xhr.status : 0;
  if (detail.target && detail.target.id === "main" && status >= 400 && status < 500) {
    detail.shouldSwap = true;
    detail.isError = false;
  }
});

// After such a swap, keyboard and screen reader users continue where the answer is: the
// first field marked invalid, else the list of problems, else the message saying what was
// done, else the page's heading.
function focusAfterSwap(main) {
  var target = main.querySelector('[aria-invalid="true"]') ||
    main.querySelector(".problems") || main.querySelector(".messages") ||
    main.querySelector("h1") || main;
  if (!target.matches("input, select, textarea, button, a[href], [tabindex]")) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
}
document.addEventListener("htmx:afterSettle", function (event) {
  var main = event.target;
  if (main && main.id === "main" && main.isConnected) {
    focusAfterSwap(main);
  }
});
