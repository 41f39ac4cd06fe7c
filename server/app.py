"""The application factory: `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from media.rtc import use_host_addresses
from server import metrics
from server.access_log import redacted_server_logs
from server.errors import install_error_handlers
from server.instruments import HttpErrors
from server.locale import UiLocale
from server.readiness import Readiness
from server.routes import (
    device_check,
    forms_admin,
    forms_fill,
    forms_review,
    hall,
    health,
    interpret,
    interpreters_admin,
    invitations,
    join,
    room_counselors,
    room_page,
    rooms_admin,
    staff_accounts,
    staff_auth,
    transcripts,
)
from server.security import SecurityHeaders
from server.services import open_services
from server.settings import Settings
from server.templating import WEB_DIR
from server.ws import endpoint


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # aiortc's host candidates: process-wide, for as long as the app runs
        with use_host_addresses(settings.rtc_host_addresses), redacted_server_logs():
            async with open_services(settings) as services:
                app.state.services = services
                app.state.metrics_registry = metrics.registry_for(services)
                app.state.readiness = Readiness(services)
                yield

    app = FastAPI(title="Counsel Room", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.add_middleware(UiLocale, default=settings.default_locale, timezone=settings.timezone)
    app.add_middleware(
        SessionMiddleware, secret_key=settings.secret_key.get_secret_value(),
        session_cookie="counsel_session", max_age=int(settings.staff_session_hours * 3600),
        same_site="lax", https_only=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeaders, hsts_max_age=settings.hsts_max_age)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts,
                       www_redirect=False)
    app.add_middleware(HttpErrors)  # outermost: counts the hosts refused above too
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    routers = (health, metrics, staff_auth, rooms_admin, interpreters_admin, staff_accounts,
               join, room_page, room_counselors, interpret, transcripts, endpoint,
               forms_admin, forms_review, forms_fill, device_check,
               hall, invitations)
    for module in routers:
        app.include_router(module.router)
    install_error_handlers(app)
    return app
