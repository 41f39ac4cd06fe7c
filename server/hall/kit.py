"""What the hall's routes share, made once per app from its services: the content cache (pages
and search index), the pages' machine translations, the chatbot and its rate limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter

from server.deps import get_services
from server.hall.chatbot import Chatbot
from server.hall.content import ContentCache
from server.hall.texts import HallTexts
from server.services import Services
from server.throttle import Throttle


@dataclass(frozen=True, slots=True)
class HallKit:
    content: ContentCache
    texts: HallTexts
    chatbot: Chatbot
    ask_limit: Throttle

    @classmethod
    def of(cls, services: Services) -> HallKit:
        limiter = MovingWindowRateLimiter(services.throttles.storage)
        return cls(
            content=ContentCache(), texts=HallTexts(services.translations),
            chatbot=Chatbot(services.translations),
            ask_limit=Throttle(limiter, parse(services.settings.hall_ask_limit_per_address),
                               "hall-ask", "Too many questions. Wait a minute, then ask again."))


def get_hall(request: Request) -> HallKit:
    kit: HallKit | None = getattr(request.app.state, "hall_kit", None)
    if kit is None:
        kit = HallKit.of(get_services(request))
        request.app.state.hall_kit = kit
    return kit


HallDep = Annotated[HallKit, Depends(get_hall)]
