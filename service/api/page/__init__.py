"""The read-only review page for compliance reviewers (routes.py), served by `mlgate serve`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from service.api.page.routes import STATIC, STATIC_DIR, router
from service.api.page.sessions import SessionTable
from service.api.runtime import Runtime


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the review page to `app`: its routes, its stylesheet and its session table."""
    app.state.review_sessions = SessionTable(
        runtime.tokens, runtime.settings.review_session_minutes * 60.0
    )
    app.mount(STATIC, StaticFiles(directory=STATIC_DIR), name="review-static")
    app.include_router(router)
