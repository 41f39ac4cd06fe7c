// Counsel Room join page: the language chosen here is the one the person joins with, and the
// page speaks it. Chosen before the code is typed, the page is shown again in that language at
// once (the name typed so far comes back); chosen later, a button after Join offers it, so that
// a typed code or answer is not lost by surprise and the keyboard order stays name, code,
// language, consent, Join. Without scripts the page is in the browser's language.
"use strict";
(function () {
  const form = document.getElementById("join-form");
  const select = document.getElementById("language");
  const apply = document.getElementById("language-apply");
  const name = document.getElementById("name");
  if (!form || !select || !apply) return;
  const key = `join-name:${form.dataset.token}`;
  const shown = document.documentElement.lang;
  const kept = sessionStorage.getItem(key);
  if (kept !== null && name) { name.value = kept; sessionStorage.removeItem(key); }

  function showIn(language) {
    if (name) sessionStorage.setItem(key, name.value);
    const url = new URL(location.href);
    url.searchParams.set("lang", language);
    location.assign(url.toString());
  }
  const untouched = () => {
    const code = document.getElementById("code");
    return !document.querySelector("input[name=transcription]:checked") && (!code || !code.value);
  };
  const pages = (form.dataset.uiLocales || "").split(" ");
  select.addEventListener("change", () => {
    if (select.value === shown || !pages.includes(select.value)) { apply.hidden = true; return; }
    if (untouched()) showIn(select.value); else apply.hidden = false;
  });
  apply.addEventListener("click", () => showIn(select.value));
})();
