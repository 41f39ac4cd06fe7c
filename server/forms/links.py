"""The link staff send a worker to fill a form: a signed, expiring token naming the submitter
(who has no account) and the form. Whoever holds it acts as that submitter, and only sees what
is theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from server.auth.tokens import TokenError, TokenExpired

AUDIENCE = "counsel-room:form"
ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class FormClaims:
    submitter_id: str
    form_id: str


class FormLinks:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def token(self, claims: FormClaims, expires_at: datetime) -> str:
        payload = {"sub": claims.submitter_id, "form": claims.form_id, "aud": AUDIENCE,
                   "exp": expires_at, "iat": datetime.now(UTC)}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> FormClaims:
        try:
            payload = jwt.decode(token, self._secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                                 options={"require": ["exp", "aud", "sub", "form"]})
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("this link has expired; ask your counselor for a new one") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("this link is not valid") from exc
        return FormClaims(str(payload["sub"]), str(payload["form"]))


def form_path(token: str) -> str:
    """The form's page for this link: a room can open the same address beside the video."""
    return f"/f/{token}"
