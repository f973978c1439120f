"""Run a batch producer in a second process, with bounded back-pressure and clean shutdown.

The child exits when the parent dies (even by SIGKILL), so a killed import leaves no orphan behind.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

T_co = TypeVar("T_co", covariant=True)

# Batches parsed ahead of the writer: bounds memory to a few batches whatever the file size.
_QUEUE_DEPTH = 4
_POLL_SECONDS = 0.5


class BatchJob(Protocol[T_co]):
    def batches(self) -> Iterable[T_co]: ...


class _Done:
    pass


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.message = f"{type(error).__name__}: {error}"


def run_in_subprocess(job: BatchJob[T_co]) -> Iterator[T_co]:
    """Yield what `job.batches()` yields, computed in a child process."""
    context = multiprocessing.get_context("spawn")
    channel: Any = context.Queue(maxsize=_QUEUE_DEPTH)
    child = context.Process(target=_produce, args=(job, channel, os.getpid()), daemon=True)
    child.start()
    try:
        while True:
            try:
                item = channel.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(
                        f"parser process died (exit code {child.exitcode})"
                    ) from None
                continue
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise RuntimeError(f"parser process failed: {item.message}")
            yield item
    finally:
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        channel.close()


def _produce(job: BatchJob[Any], channel: Any, parent_pid: int) -> None:
    try:
        for batch in job.batches():
            _put(channel, batch, parent_pid)
        _put(channel, _Done(), parent_pid)
    except KeyboardInterrupt:
        return
    except _ParentGoneError:
        return
    except Exception as exc:
        _put(channel, _Failed(exc), parent_pid)


class _ParentGoneError(Exception):
    pass


def _put(channel: Any, item: object, parent_pid: int) -> None:
    while True:
        try:
            channel.put(item, timeout=_POLL_SECONDS)
            return
        except queue.Full:
            if os.getppid() != parent_pid:
                raise _ParentGoneError from None
