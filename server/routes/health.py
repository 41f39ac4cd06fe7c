"""Liveness and readiness for load balancers and compose health checks."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from server.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(services: ServicesDep) -> dict[str, str]:
    async with services.sessions() as session:
        await session.execute(text("SELECT 1"))
    return {"status": "ok"}
