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

// --- #19 decide: the decision button's question says what the chosen verdicts decide -------
// The server renders the question's pieces in the page's language (data-confirm-template,
// data-granted-one/-other, data-rejected-one/-other with {n}, {amount} and {summary} open).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("decision-form");
  var button = form && form.querySelector("button[data-confirm-template]");
  if (!button) { return; }
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
});
