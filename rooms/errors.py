"""Domain errors; the server maps each code to an HTTP status and a WebSocket error."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class RoomEnded(DomainError):
    code = "room_ended"


class RoomNotOpen(DomainError):
    code = "room_not_open"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class NotAdmitted(DomainError):
    code = "not_admitted"


class InviteClaimed(Conflict):
    """Someone already joined with this invitation; it admits nobody else."""

    code = "invite_claimed"
