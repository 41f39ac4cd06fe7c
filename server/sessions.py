"""Which rooms this browser has joined, kept in the signed session cookie."""

from __future__ import annotations

from starlette.requests import Request

KEY = "rooms"


def remember_participation(request: Request, room_id: str, participant_id: str) -> None:
    joined = dict(request.session.get(KEY) or {})
    joined[room_id] = participant_id
    request.session[KEY] = joined


def participation(request: Request, room_id: str) -> str | None:
    joined = request.session.get(KEY) or {}
    value = joined.get(room_id) if isinstance(joined, dict) else None
    return value if isinstance(value, str) else None
