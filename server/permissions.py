"""Who may do what: the role x action table (docs/permissions.md is generated from it)."""

from __future__ import annotations

import enum

from rooms.models import RoomRole, StaffRole


class Role(enum.StrEnum):
    ADMIN = "admin"
    COUNSELOR = "counselor"
    INTERPRETER = "interpreter"
    WORKER = "worker"
    OBSERVER = "observer"


class Action(enum.StrEnum):
    # staff pages (HTTP, staff session)
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_STAFF = "manage_staff"
    CREATE_ROOM = "create_room"
    EDIT_ROOM = "edit_room"
    ISSUE_INVITE = "issue_invite"
    OPEN_ROOM = "open_room"
    END_ROOM = "end_room"
    ENTER_ROOM_AS_STAFF = "enter_room_as_staff"
    VIEW_TRANSCRIPT = "view_transcript"
    VIEW_AUDIT_LOG = "view_audit_log"
    ASSIGN_INTERPRETER = "assign_interpreter"
    ADD_COUNSELOR = "add_counselor"
    REACH_ANY_ROOM = "reach_any_room"
    EDIT_FORMS = "edit_forms"
    SEND_FORM_LINK = "send_form_link"
    REVIEW_SUBMISSIONS = "review_submissions"
    EDIT_HALL = "edit_hall"
    # a form link (signed, names its submitter): people invited as workers fill forms
    SUBMIT_FORM = "submit_form"
    # inside a room (room WebSocket, room token)
    READ_CHAT = "read_chat"
    SEND_CHAT = "send_chat"
    SEE_PARTICIPANTS = "see_participants"
    SEE_WAITING_LIST = "see_waiting_list"
    ADMIT = "admit"
    DENY = "deny"
    MESSAGE_LOBBY = "message_lobby"
    SET_AUTO_ADMIT = "set_auto_admit"
    REMOVE_PARTICIPANT = "remove_participant"
    SET_OWN_CONSENT = "set_own_consent"
    SET_READING_LANGUAGE = "set_reading_language"
    READ_CAPTIONS = "read_captions"
    USE_INTERPRETER_CONSOLE = "use_interpreter_console"
    CORRECT_CAPTIONS = "correct_captions"
    SPEAK_INTERPRETATION = "speak_interpretation"


_STAFF = frozenset({Role.ADMIN, Role.COUNSELOR, Role.INTERPRETER})
_HOSTS = frozenset({Role.ADMIN, Role.COUNSELOR})
_EVERYONE = frozenset(Role)

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_DASHBOARD: _STAFF,
    Action.MANAGE_STAFF: frozenset({Role.ADMIN}),
    Action.CREATE_ROOM: _HOSTS,
    Action.EDIT_ROOM: _HOSTS,
    Action.ISSUE_INVITE: _HOSTS,
    Action.OPEN_ROOM: _HOSTS,
    Action.END_ROOM: _HOSTS,
    Action.ENTER_ROOM_AS_STAFF: _STAFF,
    Action.VIEW_TRANSCRIPT: _STAFF,
    Action.VIEW_AUDIT_LOG: frozenset({Role.ADMIN}),
    Action.ASSIGN_INTERPRETER: _HOSTS,
    Action.ADD_COUNSELOR: _HOSTS,
    Action.REACH_ANY_ROOM: frozenset({Role.ADMIN}),
    Action.EDIT_FORMS: frozenset({Role.ADMIN}),
    Action.SEND_FORM_LINK: _HOSTS,
    Action.REVIEW_SUBMISSIONS: _HOSTS,
    Action.EDIT_HALL: _HOSTS,
    Action.SUBMIT_FORM: frozenset({Role.WORKER}),
    Action.READ_CHAT: _EVERYONE,
    Action.SEND_CHAT: _EVERYONE - {Role.OBSERVER},
    Action.SEE_PARTICIPANTS: _EVERYONE,
    Action.SEE_WAITING_LIST: _HOSTS,
    Action.ADMIT: _HOSTS,
    Action.DENY: _HOSTS,
    Action.MESSAGE_LOBBY: _HOSTS,
    Action.SET_AUTO_ADMIT: _HOSTS,
    Action.REMOVE_PARTICIPANT: _HOSTS,
    Action.SET_OWN_CONSENT: _EVERYONE,
    Action.SET_READING_LANGUAGE: _EVERYONE,
    Action.READ_CAPTIONS: _EVERYONE,
    Action.USE_INTERPRETER_CONSOLE: frozenset({Role.INTERPRETER}),
    Action.CORRECT_CAPTIONS: frozenset({Role.INTERPRETER}),
    Action.SPEAK_INTERPRETATION: frozenset({Role.INTERPRETER}),
}


def allowed(role: Role, action: Action) -> bool:
    return role in PERMISSIONS[action]


def role_of_staff(staff_role: StaffRole) -> Role:
    return Role(staff_role.value)


def role_in_room(room_role: RoomRole) -> Role:
    """Room roles map onto the table; a host acts as a counselor (admins host the same way)."""
    if room_role is RoomRole.HOST:
        return Role.COUNSELOR
    return Role(room_role.value)


def markdown_table() -> str:
    roles = list(Role)
    lines = [
        "| action | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in Action:
        cells = ["yes" if allowed(r, action) else "no" for r in roles]
        lines.append(f"| {action.value} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
