// Counsel Room: the help chatbot (web/templates/_chatbot.html). Sends a question to
// POST /hall/ask and shows the answer: sentences quoted from one program page, with a link to
// the page, or "no good answer" with an offer to ask a counselor.
//
// Asking a counselor: the widget first fires a cancelable "chatbot:ask-counselor" event
// (detail: {question}) on itself, so a page can take the question over. Otherwise, where the
// page has a visible chat (the room: #chat-form), the question goes into the chat as a message
// through the page's own socket; elsewhere (the hall) the widget links to the consultation
// request form (data-help-form).
"use strict";
(function () {
  const root = document.getElementById("chatbot");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  const log = document.getElementById("chatbot-log");
  const form = document.getElementById("chatbot-form");
  const input = document.getElementById("chatbot-question");

  function language() {
    const reading = document.getElementById("reading-select");  // the room's reading language
    return (reading && reading.value) || root.dataset.lang || window.uiLocale || "en";
  }

  function item(cls) {
    const li = document.createElement("li");
    li.className = cls;
    log.appendChild(li);
    return li;
  }

  function para(parent, text, cls) {
    const p = document.createElement("p");
    if (cls) p.className = cls;
    p.textContent = text;
    parent.appendChild(p);
    return p;
  }

  function showAnswer(li, answer) {
    const quote = document.createElement("blockquote");
    quote.className = "chatbot-quote";
    if (answer.original) quote.lang = "";
    for (const sentence of answer.sentences) para(quote, sentence);
    li.appendChild(quote);
    if (answer.machine) para(li, t("Machine translation of the page's text"), "mt-note");
    if (answer.original) para(li, t("Quoted in the page's original language"), "mt-note");
    const source = para(li, t("Source:") + " ", "chatbot-source");
    const link = document.createElement("a");
    link.href = answer.source.url;
    link.className = "chatbot-cite";
    link.textContent = answer.source.section && answer.source.section !== answer.source.title
      ? answer.source.title + " — " + answer.source.section : answer.source.title;
    source.appendChild(link);
  }

  function chatForm() {
    // The room's chat, when this person may write in it and is past the waiting room (the
    // chat may sit in a closed panel: submitting it still sends through the room's socket).
    const chat = document.getElementById("chat-form");
    const stage = document.getElementById("stage");
    return chat && !chat.hidden && !(stage && stage.hidden) ? chat : null;
  }

  function askCounselor(li, question, button) {
    const event = new CustomEvent("chatbot:ask-counselor", { detail: { question }, cancelable: true });
    if (!root.dispatchEvent(event)) return;
    const chat = chatForm();
    if (chat) {
      document.getElementById("chat-input").value = question;
      chat.requestSubmit();
      button.disabled = true;
      para(li, t("Your question was sent to the chat."), "chatbot-sent");
    }
  }

  function showDecline(li, question) {
    para(li, t("Sorry, I have no good answer to that in our program pages."));
    const offer = document.createElement("p");
    if (chatForm()) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = t("Ask a counselor in the chat");
      button.addEventListener("click", () => askCounselor(li, question, button));
      offer.appendChild(button);
    } else {
      const link = document.createElement("a");
      link.href = root.dataset.helpForm;
      link.className = "chatbot-help";
      link.textContent = t("Ask a counselor: request a consultation");
      link.addEventListener("click", (ev) => {
        const event = new CustomEvent("chatbot:ask-counselor", { detail: { question }, cancelable: true });
        if (!root.dispatchEvent(event)) ev.preventDefault();
      });
      offer.appendChild(link);
    }
    li.appendChild(offer);
  }

  async function ask(question) {
    item("chatbot-question-item").textContent = question;
    const li = item("chatbot-answer");
    li.setAttribute("aria-busy", "true");
    para(li, t("Looking in the program pages…"), "muted chatbot-wait");
    try {
      const response = await fetch("/hall/ask", {
        method: "POST", headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ question, language: language() }),
      });
      li.textContent = "";
      if (response.status === 429) { para(li, t("Too many questions. Wait a minute, then ask again."), "error"); return; }
      if (!response.ok) { para(li, t("The question could not be answered. Try again."), "error"); return; }
      const answer = await response.json();
      if (answer.answered) showAnswer(li, answer); else showDecline(li, question);
    } catch (e) {
      li.textContent = "";
      para(li, t("No connection. Try again."), "error");
    } finally {
      li.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    ask(question);
  });
})();
