// Counsel Room: the scripts' interface strings in the page's language.
// t("Hello %(name)s", {name: "An"}) looks the English text up in the catalog base.html embeds
// (id "i18n-catalog", msgid -> translation) and fills %(name)s placeholders, as Python does.
"use strict";
(function () {
  let catalog = {};
  const node = document.getElementById("i18n-catalog");
  if (node) {
    try { catalog = JSON.parse(node.textContent || "{}"); } catch (e) { catalog = {}; }
  }
  window.t = function (message, values) {
    const text = Object.prototype.hasOwnProperty.call(catalog, message) && catalog[message]
      ? catalog[message] : message;
    if (!values) return text;
    return text.replace(/%\((\w+)\)s/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole);
  };
  window.uiLocale = document.documentElement.lang || "en";
  // the agency's time zone: Intl.DateTimeFormat(uiLocale, {timeZone: uiTimeZone, …})
  const zone = document.querySelector('meta[name="ui-timezone"]');
  window.uiTimeZone = (zone && zone.getAttribute("content")) || "UTC";
})();
