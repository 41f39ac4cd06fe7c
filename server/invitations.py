"""What staff send an invited person: a short link (`/j/{code}`), and a ready-to-send message
in the invitee's language with the link, the verification code, the session's time (in that
language and the agency's time zone) and what to prepare."""

from __future__ import annotations

from dataclasses import dataclass

from rooms.models import Invite, Room
from server import i18n
from server import locale as locale_format
from server.auth.tokens import InviteClaims
from server.i18n import gettext as _
from server.services import Services


@dataclass(frozen=True, slots=True)
class Revealed:
    """An invitation with its code, shown once to the staff member who issued it."""

    link: str
    short_link: str
    code: str
    role: str
    label: str
    language: str
    message: str


def short_path(invite: Invite) -> str:
    return f"/j/{invite.short_code}" if invite.short_code else ""


def long_link(services: Services, base: str, invite: Invite) -> str:
    token = services.tokens.invite_token(
        InviteClaims(invite.id, invite.room_id, invite.role.value), invite.expires_at)
    return f"{base}/join/{token}"


def reveal(services: Services, base: str, invite: Invite, room: Room, code: str) -> Revealed:
    short = base + short_path(invite) if invite.short_code else long_link(services, base, invite)
    language = invite.language or services.settings.default_locale
    return Revealed(
        link=long_link(services, base, invite), short_link=short, code=code,
        role=invite.role.value, label=invite.label, language=language,
        message=ready_message(room=room, link=short, code=code, name=invite.label,
                              language=language, zone=services.settings.timezone,
                              ask_for_id=services.settings.invite_ask_for_id))


def ready_message(*, room: Room, link: str, code: str, name: str, language: str, zone: str,
                  ask_for_id: bool) -> str:
    """The text staff paste into a text message or an e-mail, in ``language``."""
    with i18n.use_locale(locale_format.supported(language) or i18n.DEFAULT_LOCALE, zone):
        when = (locale_format.day(room.starts_at, "full") + " "
                + locale_format.clock(room.starts_at, "short"))
        lines = [
            _("Hello %(name)s,") % {"name": name} if name else _("Hello,"),
            "",
            _("You are invited to a video session with your counselor: %(title)s.")
            % {"title": room.title},
            _("When: %(when)s") % {"when": when},
            "",
            _("1. Open this link on your phone or computer: %(link)s") % {"link": link},
            _("2. Enter your verification code: %(code)s") % {"code": code},
            "",
            _("Before the session:"),
            "- " + _("find a quiet place where you can talk privately"),
            "- " + _("charge your phone, or keep it plugged in"),
        ]
        if ask_for_id:
            lines.append("- " + _("have your ID card and your claim number at hand"))
        lines += ["", _("Keep the link and the code to yourself: they are for you only.")]
    return "\n".join(lines)
