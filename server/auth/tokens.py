"""Signed, expiring tokens (JWT, HS256): invites into a room and room-socket access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

INVITE_AUDIENCE = "counsel-room:invite"
ROOM_AUDIENCE = "counsel-room:room"
ALGORITHM = "HS256"


class TokenError(Exception):
    code = "token_invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TokenExpired(TokenError):
    code = "token_expired"


class TokenWrongRoom(TokenError):
    code = "token_wrong_room"


@dataclass(frozen=True)
class InviteClaims:
    invite_id: str
    room_id: str
    role: str


@dataclass(frozen=True)
class RoomClaims:
    participant_id: str
    room_id: str
    role: str


class TokenService:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def _encode(self, claims: dict[str, str], audience: str, expires_at: datetime) -> str:
        payload = {**claims, "aud": audience, "exp": expires_at, "iat": datetime.now(UTC)}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def _decode(self, token: str, audience: str) -> dict[str, str]:
        try:
            payload: dict[str, str] = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], audience=audience,
                options={"require": ["exp", "aud", "room", "role", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("this link has expired; ask your counselor for a new one") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("this link is not valid") from exc
        return payload

    def invite_token(self, claims: InviteClaims, expires_at: datetime) -> str:
        data = {"sub": claims.invite_id, "room": claims.room_id, "role": claims.role}
        return self._encode(data, INVITE_AUDIENCE, expires_at)

    def read_invite(self, token: str) -> InviteClaims:
        payload = self._decode(token, INVITE_AUDIENCE)
        return InviteClaims(payload["sub"], payload["room"], payload["role"])

    def room_token(self, claims: RoomClaims, ttl: timedelta) -> str:
        data = {"sub": claims.participant_id, "room": claims.room_id, "role": claims.role}
        return self._encode(data, ROOM_AUDIENCE, datetime.now(UTC) + ttl)

    def read_room_token(self, token: str, room_id: str) -> RoomClaims:
        payload = self._decode(token, ROOM_AUDIENCE)
        if payload["room"] != room_id:
            raise TokenWrongRoom("this token is for another room")
        return RoomClaims(payload["sub"], payload["room"], payload["role"])
