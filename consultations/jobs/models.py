"""The ``jobs`` table: what a background job is for, who asked, how far it got.

Huey (the queue) only carries a job's id; everything else lives here, so that a job a
dead worker took is noticed (stale heartbeat) and run again, and so that the page of a
job, "My downloads" and the stored files of published versions read one table.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow

STATUSES = ("queued", "running", "done", "failed")
UNFINISHED = ("queued", "running")


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "document" (a Word, PDF or spreadsheet file), "mail", ...
    kind: Mapped[str] = mapped_column(String(40), index=True)
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    # Who asked (None: the system, e.g. the stored files of a published version).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Jobs with the same key make the same thing: an unfinished one is reused, and a
    # finished one with a stored file is served again (published versions).
    key: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    error: Mapped[str] = mapped_column(Text, default="")
    # Last sign of life of the worker running it (or, while queued, when it was queued).
    heartbeat_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Deleted (row and file) after this; None: kept (the files of published versions).
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    # The result: a file under MESA_FILES_DIR (relative name), complete or absent.
    file_path: Mapped[str | None] = mapped_column(String(300))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    mimetype: Mapped[str | None] = mapped_column(String(120))
    # The Content-Disposition header the file is served with (its download name).
    disposition: Mapped[str | None] = mapped_column(String(500))

    @property
    def params(self) -> dict:
        return json.loads(self.params_json or "{}")

    @params.setter
    def params(self, value: dict) -> None:
        self.params_json = json.dumps(value, ensure_ascii=False, sort_keys=True)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def etag(self) -> str | None:
        return self.file_sha256

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status} {self.progress}%>"
