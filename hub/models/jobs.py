"""When each once-for-all-workers job last ran (hub.jobs.runner): the lock row on SQLite, the due
check on both dialects."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, UtcDateTime


class JobRun(Base):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_worker: Mapped[str | None] = mapped_column(String(128), nullable=True)  # host:pid
    runs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
