"""A bounded map over worker processes: results in order, at most a few items in flight, and an item that
kills or breaks its worker retried alone, so a bad file costs one file. Framework-free."""

import gc
import logging
import multiprocessing
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


CRASHED = "crashed"  # the worker process died


RAISED = "raised"  # the function raised, or its result could not be sent back


def bounded_map(
    function: Callable,
    items: Iterable,
    *,
    workers: int,
    failed: Callable[[Any, str], Any],
    discard: Callable[[Any], None],
) -> Iterator:
    """Map in worker processes, results in order, with few items in flight so memory stays flat.

    One item never costs the others: when ``function`` raises, when its result cannot be pickled back (then
    ``discard(result)`` runs in the worker, to delete what it stored), or when its worker process dies, the
    item's result is ``failed(item, RAISED or CRASHED)`` instead. After a worker died, the files that were in
    flight run again one at a time, so only the one that kills its worker is lost. Closed before the end (the
    caller stopped), the results still in flight are waited for and discarded, so nothing they stored stays.
    """
    if workers <= 1:
        for item in items:
            yield _settle(item, _call(function, item), failed, pickled=False)
        return
    window = workers * 3
    # Frozen objects are never scanned by the workers' garbage collector, which would otherwise touch (and so
    # copy) every page inherited from this process: measured 40 % of the workers' CPU time on a CT series. A
    # caller that froze them already (``import_study``, for its whole process) keeps them frozen.
    froze = gc.get_freeze_count() == 0
    if froze:
        gc.freeze()
    pool = _pool(workers)
    pending: deque[tuple[Any, Future]] = deque()
    try:
        items = iter(items)
        while True:
            item = next(items, _END)
            if item is not _END:
                pending.append((item, _submit(pool, function, discard, item)))
            while pending and (len(pending) >= window or item is _END):
                first, future = pending.popleft()
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    pool.shutdown(wait=True)
                    for again, done in [(first, future), *pending]:
                        yield _settle(again, _result_or_alone(done, function, discard, again), failed)
                    pending.clear()
                    pool = _pool(workers)
                    continue
                except Exception as error:  # noqa: BLE001 - e.g. the item itself could not be pickled
                    outcome = _Failure(RAISED, type(error).__name__)
                yield _settle(first, outcome, failed)
            if item is _END:
                return
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for _, future in pending:
            _discard_unread(future, discard)
        if froze:
            gc.unfreeze()


_END = object()


@dataclass(frozen=True)
class _Failure:
    problem: str  # RAISED or CRASHED
    error: str  # the exception's type, for the log


def _discard_unread(future: Future, discard: Callable) -> None:
    """Discard the result of a future nobody will read (its worker ran it before the pool was shut down)."""
    if future.cancelled() or future.exception() is not None:
        return
    outcome = future.result()
    if not isinstance(outcome, _Failure):
        discard(pickle.loads(outcome))  # noqa: S301 - bytes our own worker pickled


def _submit(pool: ProcessPoolExecutor, function: Callable, discard: Callable, item: Any) -> Future:
    """Submit an item; into a pool a dead worker broke, as a future that says so (the item is then run again)."""
    try:
        return pool.submit(_call_in_worker, function, discard, item)
    except BrokenProcessPool as error:
        broken: Future = Future()
        broken.set_exception(error)
        return broken


def _pool(workers: int) -> ProcessPoolExecutor:
    # A worker collects its own garbage even when its parent has stopped collecting (``import_study``).
    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=gc.enable)


def _call(function: Callable, item: Any) -> Any:
    """Return ``function(item)``, or a _Failure when it raises."""
    try:
        return function(item)
    except Exception as error:  # noqa: BLE001 - the caller turns it into the item's outcome
        return _Failure(RAISED, type(error).__name__)


def _call_in_worker(function: Callable, discard: Callable, item: Any) -> bytes | _Failure:
    """Run in a worker: the pickled result, or a _Failure when the function raises or its result won't pickle."""
    result = _call(function, item)
    if isinstance(result, _Failure):
        return result
    try:
        return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # noqa: BLE001 - pickle raises many types for one problem
        discard(result)
        return _Failure(RAISED, type(error).__name__)


def _result_or_alone(future: Future, function: Callable, discard: Callable, item: Any) -> bytes | _Failure:
    """After the pool broke: the item's result if it had one, else the item run again alone in a fresh worker."""
    if future.done() and not isinstance(future.exception(), BrokenProcessPool):
        error = future.exception()
        return future.result() if error is None else _Failure(RAISED, type(error).__name__)
    with _pool(1) as alone:
        try:
            return alone.submit(_call_in_worker, function, discard, item).result()
        except BrokenProcessPool:
            return _Failure(CRASHED, "BrokenProcessPool")


def _settle(item: Any, outcome: Any, failed: Callable[[Any, str], Any], *, pickled: bool = True) -> Any:
    """Return a worker's result (unpickled), or what ``failed`` makes of a failure (logged by its type only)."""
    if isinstance(outcome, _Failure):
        logger.warning("A DICOM import worker %s on one file (%s)", outcome.problem, outcome.error)
        return failed(item, outcome.problem)
    return pickle.loads(outcome) if pickled else outcome  # noqa: S301 - bytes our own worker pickled
