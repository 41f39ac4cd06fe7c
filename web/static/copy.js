// Counsel Room: "Copy" buttons (data-copy="<id of an input or textarea>"). The clipboard API
// where the browser allows it; otherwise the text is selected for the person to copy.
"use strict";
(function () {
  const status = document.getElementById("copy-status");
  const say = (text) => { if (status) status.textContent = text; };

  function select(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
  }

  async function copy(field) {
    try {
      await navigator.clipboard.writeText(field.value);
      say(t("Copied."));
    } catch (err) {
      select(field);
      let copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? t("Copied.") : t("Selected: copy it with Ctrl+C, or press and hold on a phone."));
    }
  }

  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", () => {
      const field = document.getElementById(button.dataset.copy);
      if (field) copy(field);
    });
  });
})();
