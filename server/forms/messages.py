"""The worker's side of forms in their language: the few sentences of the form pages (buttons,
errors, statuses), by key, from the gettext catalogs (web/i18n/locale, as every page); English
where a language has no catalog. Keys keep the form code independent of the wording."""

from __future__ import annotations

from dataclasses import dataclass

from server import i18n
from server.i18n import N_
from server.locale import supported

TEXTS: dict[str, str] = {
    "required": N_("This field is required."),
    "not_number": N_("Enter a number."),
    "too_small": N_("Enter a number of at least %(min)s."),
    "too_large": N_("Enter a number no larger than %(max)s."),
    "not_date": N_("Enter a date (year-month-day)."),
    "not_choice": N_("Choose one of the options."),
    "too_long": N_("Shorten this to %(max)s characters."),
    "consent_required": N_("Tick this box to agree; without it the form cannot be sent."),
    "file_required": N_("Attach a file."),
    "file_type": N_("This file is not a PDF, a PNG or a JPEG image (its content was "
          "checked, not its name). Attach a PDF or a photo."),
    "file_too_big": N_("This file is larger than %(max_mb)s MB. Attach a smaller one."),
    "file_empty": N_("This file is empty."),
    "too_many_files": N_("You can attach at most %(n)s files here."),
    "not_a_file_field": N_("This question does not take files."),
    "errors_summary": N_("Some answers need attention:"),
    "submit": N_("Send the form"),
    "sending": N_("Sending…"),
    "send_failed": N_("Not sent yet: the connection failed. Your answers are saved; press the "
          "button again."),
    "saved": N_("Draft saved"),
    "saving": N_("Saving…"),
    "save_failed": N_("Not saved: check your connection. We will try again."),
    "draft_note": N_("Your answers are saved as you type; you can close this page and come "
          "back with the same link."),
    "required_mark": N_("required"),
    "machine_translated": N_("Machine translation"),
    "machine_note": N_("Some texts on this form were translated by a computer and may contain "
          "mistakes."),
    "original_note": N_("This form is not yet available in your language; it is shown in the "
          "language it was written in."),
    "language": N_("Language"),
    "change_language": N_("Change"),
    "choose": N_("Choose…"),
    "your_submissions": N_("What you have sent"),
    "received": N_("Thank you. Your form was received and saved."),
    "status": N_("Status"),
    "sent_on": N_("Sent"),
    "messages": N_("Messages"),
    "no_messages": N_("No messages yet."),
    "reply": N_("Your reply"),
    "send_reply": N_("Send reply"),
    "your_answers": N_("Your answers"),
    "attached": N_("Attached"),
    "remove": N_("Remove"),
    "uploading": N_("Uploading…"),
    "file_hint": N_("PDF, PNG or JPEG, up to %(max_mb)s MB."),
    "back_to_form": N_("Back to the form"),
    "view": N_("View"),
    "yes": N_("Yes"),
    "no": N_("No"),
    "original": N_("Original"),
    "counselor": N_("Counselor"),
    "you": N_("You"),
    "status_submitted": N_("Received"),
    "status_under_review": N_("Under review"),
    "status_needs_info": N_("More information needed"),
    "status_approved": N_("Approved"),
    "status_rejected": N_("Not approved"),
    "status_changed": N_("Status changed to %(status)s"),
    "add_file": N_("Add a file"),
    "add_file_help": N_("Your counselor asked for more information: you can add a file to what "
          "you sent."),
    "add_file_to": N_("Which document"),
    "file": N_("File"),
    "file_added": N_("File added"),
    "form_closed": N_("This form is no longer in use. Ask your counselor for the current one."),
    "only_if": N_("Only if you answered “%(value)s” above."),
}


@dataclass(frozen=True, slots=True)
class Messages:
    """``messages("too_long", max=40)``: one sentence in ``language``."""

    language: str

    def __call__(self, key: str, **values: object) -> str:
        catalog = i18n.translations(supported(self.language) or i18n.DEFAULT_LOCALE)
        text = catalog.gettext(TEXTS[key])
        return text % values if values else text


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one answer: its catalog key and values, told in the reader's language."""

    key: str
    values: tuple[tuple[str, object], ...] = ()

    def text(self, messages: Messages) -> str:
        return messages(self.key, **dict(self.values))


def error(key: str, **values: object) -> FieldError:
    return FieldError(key, tuple(values.items()))
