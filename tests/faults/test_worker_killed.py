"""kill -9 a worker in the middle of an export job: the redelivered task does it exactly once.

An export job (``accounting.run_export``) writes the file, records ``export.ledger`` in the
audit log and marks the job done. The task is acknowledged late, so a worker that dies
anywhere in it gets the message again. Whatever the point it died at, afterwards there is
one complete file, one audit event whose SHA-256 is that file's, the job is done, and a
further delivery does nothing.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accounting.exports import files, services
from accounting.exports import ledger as ledger_writer
from accounting.exports.jobs import export_path, start_export
from accounting.models import ExportJob, ExportStatus
from accounting.tasks import run_export
from audit.models import AuditEvent
from tests.accounting.test_export_jobs import book_postings
from tests.audit_lock import audit_lock
from tests.faults.support import consistent, events, listing
from tests.tasks.worker import FAST_REDELIVERY, wait_for, worker

__all__ = ["audit_lock"]  # a fixture


RECEIVED = re.compile(r"Task accounting\.run_export\[([0-9a-f-]+)\] received")


class WorkerDied(BaseException):
    """Stands in for SIGKILL in-process: no ``except Exception`` in the task catches it."""


def _die_after(function: Callable[..., Any], when: Callable[..., bool] = lambda *a: True):  # type: ignore[no-untyped-def]
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if when(*args):
            raise WorkerDied(function.__name__)
        return result

    return wrapper


def _die_after_rows_written(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    monkeypatch.setattr(ledger_writer, "write_ledger", _die_after(ledger_writer.write_ledger))


def _die_after_rename_before_commit(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    renamed = _die_after(os.replace, lambda src, dst: Path(dst) == target)
    monkeypatch.setattr(files.os, "replace", renamed)


def _die_after_commit_before_ack(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    monkeypatch.setattr(services, "export_ledger_file", _die_after(services.export_ledger_file))


CRASH_POINTS = {
    "rows written, nothing recorded": _die_after_rows_written,
    "file renamed into place, commit pending": _die_after_rename_before_commit,
    "all committed, message not acknowledged": _die_after_commit_before_ack,
}


def _exported_once(job: ExportJob, export_dir: Path) -> str:
    """Assert one done job, one file, one matching audit event; describe them."""
    job.refresh_from_db()
    target = export_path(job)
    exported = AuditEvent.objects.get(action="export.ledger")
    assert job.status == ExportStatus.DONE
    assert job.file_path == str(target)
    assert listing(export_dir) == [target.name]  # one file, no partial one beside it
    assert exported.payload["sha256"] == files.sha256_of(target)
    return (
        f"job {job.status}, {events('export.ledger')} export.ledger event, files "
        f"{listing(export_dir)}, file sha256 = audited sha256 {exported.payload['sha256'][:12]}…"
    )


@pytest.mark.django_db
@pytest.mark.evidence("fault")
@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_an_export_worker_dying_anywhere_is_redone_exactly_once(
    world: Any, export_dir: Path, monkeypatch: pytest.MonkeyPatch, evidence: Any, point: str
) -> None:
    """A worker dies in the middle of an export job (in-process, at each critical point)"""
    job = start_export(
        actor=world.treasurer, kind="ledger_csv"
    )  # queued; its message is "sent" below
    before = AuditEvent.objects.count()

    with monkeypatch.context() as patch:
        CRASH_POINTS[point](patch, export_path(job))
        with pytest.raises(WorkerDied):
            run_export.apply(args=[str(job.pk)], throw=True)
    job.refresh_from_db()
    crashed = f"job {job.status}, {events('export.ledger')} export.ledger events, "
    crashed += f"files {listing(export_dir)}"

    redelivered = run_export.apply(args=[str(job.pk)], retries=1, throw=True).get()
    again = run_export.apply(args=[str(job.pk)], retries=2, throw=True).get()

    result = _exported_once(job, export_dir)
    assert again["skipped"] is True
    assert AuditEvent.objects.count() == before + 1
    evidence.row(
        tried=f"worker dies at '{point}', then the message is delivered twice more",
        outcome=(
            f"after the crash: {crashed}; redelivery: {redelivered['status']}; next delivery "
            f"skipped={again['skipped']}; now {result}; {consistent()}"
        ),
    )


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.evidence("fault")
def test_kill_9_the_worker_after_it_wrote_the_export_file(
    world: Any, export_dir: Path, tmp_path: Path, audit_lock: Any, evidence: Any
) -> None:
    """kill -9 the Celery worker after it wrote an export file, before the job is marked done"""
    book_postings(world.treasurer, 20)
    env = {"EXPORT_FILES_DIR": str(export_dir), **FAST_REDELIVERY}
    with worker(tmp_path, started=False, **env) as running:
        job = start_export(
            actor=world.treasurer, kind="ledger_csv"
        )  # the message waits in the queue
        # The job's completion appends its audit event: holding the append lock stops the
        # task there, with the file written and the job marked done, not yet committed.
        audit_lock.hold()
        running.start(wait=False)  # busy with the blocked task, it would not answer a ping
        [backend] = wait_for(
            audit_lock.waiting,
            what=lambda: f"the task to block before its commit:\n{running.log_text()[-3000:]}",
        )
        blocked_in = audit_lock.blocked_in(backend)
        job.refresh_from_db()
        stopped = f"job {job.status} at {job.rows_done}/{job.rows_total} rows, "
        stopped += f"files {listing(export_dir)}"
        pid = running.process.pid  # type: ignore[union-attr]
        running.kill()
        audit_lock.release()
        wait_for(lambda: not audit_lock.alive(backend), what="the dead worker's session to end")
        job.refresh_from_db()
        assert job.status == ExportStatus.RUNNING  # its "done" was never committed
        assert events("export.ledger") == 0
        assert not export_path(job).exists()
        killed = f"job {job.status}, {events('export.ledger')} export.ledger events, "
        killed += f"files {listing(export_dir)}"

        running.start()
        wait_for(
            lambda: ExportJob.objects.filter(pk=job.pk, status=ExportStatus.DONE).exists(),
            timeout=90,
            what=lambda: f"the redelivered task; worker logs:\n{running.log_text()[-4000:]}",
        )
        wait_for(lambda: "] succeeded" in running.log_text(), what="the task's success")
        time.sleep(4)  # past another visibility timeout: nothing runs a third time

    received = RECEIVED.findall(running.log_text())
    assert len(received) == 2 and len(set(received)) == 1  # one message, delivered twice
    result = _exported_once(job, export_dir)
    evidence.row(
        tried=f"SIGKILL the worker (pid {pid}) while run_export (session {backend}) is "
        f"{blocked_in}, its file written; restart the worker",
        outcome=(
            f"before the kill: {stopped}; after: {killed} (session ended, rolled back); "
            f"message {received[0][:8]}… received {len(received)} times in all; now {result}; "
            + consistent()
        ),
    )
