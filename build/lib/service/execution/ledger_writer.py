"""The ledger writer: one process that records every decision of the service, in batches.

Decision workers only judge; each judged decision comes here and is answered with its receipt
once it is durable. The records that arrive while one transaction commits go into the next one
together (group commit), so a busy service pays one fsync per batch rather than per decision,
and no two processes ever wait on each other for the ledger's write lock.
"""

from __future__ import annotations

import contextlib
from multiprocessing.connection import Connection

from service.audit.ledger import open_ledger
from service.audit.receipt import AuditReceipt
from service.errors import AuditWriteFailed, MlgateError
from service.execution.childprocess import Child, ChildEnd, portable
from service.settings import Settings

MAX_BATCH = 128


def ledger_writer(settings: Settings) -> Child:
    """Start the writer for the ledger `settings` names; wait_ready() before use, or await
    its `started`."""
    return Child(
        serve_ledger,
        (settings,),
        "mlgate-ledger",
        lambda why: AuditWriteFailed(
            f"the ledger writer process {why}; the decision was not recorded"
        ),
    )


def serve_ledger(conn: Connection, settings: Settings) -> None:
    """The writer's life: open the ledger, say ready, then record batches until the pipe closes.

    Requests: ("record", PendingRecord), answered with the AuditReceipt and
    the writer's commits and records so far, or ("ping", None), answered with those two counts
    once everything sent before it is recorded.
    """
    end = ChildEnd(conn)
    try:
        ledger = open_ledger(settings)
    except BaseException as exc:
        end.failed_to_start(portable(exc, AuditWriteFailed))
        return
    # A checkpoint now covers what came since the last one (as when idle) and leaves the
    # writer holding the chain's Merkle frontier, so its next checkpoints read nothing back.
    # If it fails, the same failure meets the next record and fails it closed there.
    with contextlib.suppress(MlgateError):
        ledger.checkpoint_if_behind()
    end.ready()
    commits = records_done = 0
    with ledger:
        while (first := end.next()) is not None:
            batch = [first, *end.waiting(MAX_BATCH - 1)]
            records = [request for request in batch if request.op == "record"]
            results: list[object]
            try:
                results = list(ledger.record_batch([request.payload for request in records]))
            except BaseException as exc:  # a bug here must still answer every request
                results = [portable(exc, AuditWriteFailed)] * len(records)
            recorded = sum(isinstance(result, AuditReceipt) for result in results)
            commits += recorded > 0
            records_done += recorded
            for request, result in zip(records, results, strict=True):
                if isinstance(result, AuditReceipt):
                    end.answer(request, True, (result, commits, records_done))
                else:
                    end.answer(request, False, result)
            for request in batch:
                if request.op != "record":
                    end.answer(request, True, (commits, records_done))
