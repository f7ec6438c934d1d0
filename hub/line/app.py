"""Putting the LINE entries on the hub's app (called by `hub.main.create_app` when LINE is configured)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from hub.core.config import Settings
from hub.line.data_reads import api_router as data_reads_api
from hub.line.data_reads import page_router as data_reads_page
from hub.line.liff_api import router as liff_api_router
from hub.line.liff_forms import router as liff_forms_router
from hub.line.liff_whitelists import router as liff_whitelists_router
from hub.line.liff_whitelists import templates_router as liff_templates_router
from hub.line.links import router as files_router
from hub.line.pages import line_router as liff_pages_router
from hub.line.webhook import WEBHOOK_PATH, LineService, webhook


def mount(app: FastAPI, settings: Settings, sessions: sessionmaker[Session]) -> LineService:
    service = LineService(settings, sessions)
    app.state.line = service
    app.add_route(WEBHOOK_PATH, webhook, methods=["POST"], include_in_schema=False)
    app.include_router(files_router)
    app.include_router(liff_pages_router)
    app.include_router(liff_api_router)
    app.include_router(liff_forms_router)
    app.include_router(liff_whitelists_router)
    app.include_router(liff_templates_router)
    app.include_router(data_reads_api)
    app.include_router(data_reads_page)
    return service
