"""Background use cases: relaying the outbox, and the sweep that reconciles what was missed."""

from __future__ import annotations

from datetime import datetime, timedelta

from filestore.domain import commands
from filestore.domain.errors import ConcurrencyConflict
from filestore.domain.handlers.results import ReconcileReport, StoredOutcome
from filestore.domain.handlers.services import Services
from filestore.domain.handlers.stored_objects import settle
from filestore.domain.handlers.trash import purge_expired
from filestore.domain.model import UploadStatus
from filestore.domain.ports import ListPosition

# A pending upload younger than this is left to its S3 event by the sweep.
SWEEP_GRACE = timedelta(minutes=2)
# API Gateway closes WebSocket connections after two hours at most.
CONNECTION_MAX_AGE = timedelta(hours=2)


async def relay_outbox(cmd: commands.RelayOutbox, services: Services) -> int:
    """Publish unpublished outbox entries in order and mark them; returns how many."""
    if services.publisher is None:
        return 0
    async with services.uow() as uow:
        entries = await uow.outbox.pending(cmd.batch_size)
        if not entries:
            return 0
        await services.publisher.publish([entry.event for entry in entries])
        await uow.outbox.mark_published([entry.event.id for entry in entries], services.clock.now())
        await uow.commit()
    return len(entries)


async def reconcile(cmd: commands.Reconcile, services: Services) -> ReconcileReport:
    """Complete pending uploads whose object arrived unannounced, expire abandoned ones; page
    through every pending upload older than the grace, within the time budget if any. Then
    forget stale connections and delete for good what has been in the trash too long."""
    now = cmd.now or services.clock.now()
    grace = SWEEP_GRACE if cmd.grace is None else cmd.grace
    # On the services' clock, not `now`: a caller may sweep as of another time.
    deadline = None if cmd.time_budget is None else services.clock.now() + cmd.time_budget
    completed = failed = expired = 0
    after: ListPosition | None = None
    stopped_early = False
    while True:
        # One short transaction per page: a page's uploads are each settled in their own.
        async with services.uow() as uow:
            page = await uow.uploads.list_pending(now - grace, cmd.batch_size, after)
        for candidate in page:
            try:
                result = await _reconcile_one(candidate.id, now, services)
            except ConcurrencyConflict:
                continue  # someone else settled it meanwhile
            completed += result == "completed"
            failed += result == "failed"
            expired += result == "expired"
        if len(page) < cmd.batch_size:
            break
        # Uploads still pending (waiting for their bytes, e.g. a multipart upload that lives a
        # day) stay in the listing: the cursor, not their state, moves the sweep past them.
        after = ListPosition(page[-1].created_at, page[-1].id)
        if deadline is not None and services.clock.now() >= deadline:
            stopped_early = True
            break
    async with services.uow() as uow:
        removed = await uow.connections.remove_connected_before(now - CONNECTION_MAX_AGE)
        await uow.commit()
    # What the trash holds too long can wait for a sweep with time left: it loses nothing.
    purged = await purge_expired(now, cmd.batch_size, services, deadline)
    return ReconcileReport(completed, failed, expired, removed, stopped_early, purged=purged)


async def _reconcile_one(upload_id: str, now: datetime, services: Services) -> str | None:
    async with services.uow() as uow:
        upload = await uow.uploads.get(upload_id)
        if upload is None or upload.status is not UploadStatus.PENDING:
            return None
        info = await services.blobs.head(upload.object_key)
        if info is not None:
            outcome = await settle(uow, upload, info, services)
            await uow.commit()
            if outcome is StoredOutcome.FAILED:
                await services.blobs.delete(upload.object_key)
                return "failed"
            return "completed"
        if now < upload.expires_at:
            return None
        upload.expire(now)
        await uow.uploads.update(upload, release_bytes=upload.size)
        await uow.commit()
    if upload.multipart_id is not None:
        await services.blobs.abort_multipart(upload.object_key, upload.multipart_id)
    return "expired"
