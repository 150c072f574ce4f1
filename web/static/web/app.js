// Progressive enhancement only; every page works without it. No inline handlers (CSP).
document.addEventListener("DOMContentLoaded", function () {
  // Submitting the language switch on change is a convenience; the button stays for keyboards.
  var language = document.getElementById("language");
  if (language) {
    language.addEventListener("change", function () { language.form.submit(); });
  }
});
