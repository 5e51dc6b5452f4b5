"""Chaining a pure function onto a DataLoader's future (no nested loads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql_sync_dataloaders import DeferredExecutionContext, SyncFuture


def then(future: Any, fn: Callable[[Any], Any]) -> Any:
    """``fn(value)`` once ``future`` resolves; the value itself when it is not a future."""
    if not isinstance(future, SyncFuture):
        return fn(future)
    if future.done():
        return fn(future.result())
    out = SyncFuture()
    out.deferred_callback = future.deferred_callback

    def done() -> None:
        try:
            out.set_result(fn(future.result()))
        except Exception as exc:  # handed to the executor, which masks and logs it
            out.set_exception(exc)

    future.add_done_callback(done)
    return out


class LoaderExecutionContext(DeferredExecutionContext):
    """graphql-sync-dataloaders' executor, fitted to graphql-core 3.2.14+.

    graphql-sync-dataloaders 0.1 calls ``handle_field_error(error, return_type)``;
    graphql-core 3.2.14 added a ``path`` argument (to skip errors under an
    already-nulled position). Without a path the error is simply collected.
    """

    def handle_field_error(self, error, return_type, path=None) -> None:
        return super().handle_field_error(error, return_type, path)
