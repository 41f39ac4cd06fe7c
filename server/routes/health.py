"""Liveness and readiness for load balancers, orchestrators and compose health checks.

`/healthz`: the process is up and its event loop answers (restart it when this fails).
`/readyz`: the node should be sent new sessions (`server.readiness`): 200 when every check
passes, else 503; both with each check's state.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from server.readiness import Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    readiness: Readiness = request.app.state.readiness
    report = await readiness.report()
    body: dict[str, Any] = {"status": "ready" if report.ready else "not ready",
                            "checks": report.checks, "failed": report.failed}
    return JSONResponse(body, status_code=200 if report.ready else 503,
                        headers={"Cache-Control": "no-store"})
