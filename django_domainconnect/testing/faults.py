"""Fault injection for tests: make the k-th SQL write of a block fail, or the commit itself.

``write_faults()`` wraps every statement the connection runs (Django's ``execute_wrapper``). Counting
mode (``fail_at=None``) tells how many writes a successful run makes, so a test can then fail each of
them in turn. Only data writes count (INSERT/UPDATE/DELETE), never SELECT … FOR UPDATE or savepoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections

WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")


@dataclass
class WriteFaults:
    """What the wrapper saw: ``writes`` (statements, in order) and whether it injected a failure."""

    fail_at: int | None = None
    writes: list[str] = field(default_factory=list)
    failed: bool = False

    @property
    def count(self) -> int:
        return len(self.writes)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        if sql.lstrip().upper().startswith(WRITE_VERBS) and not self.failed:
            self.writes.append(sql[:80])
            if self.fail_at is not None and len(self.writes) == self.fail_at:
                self.failed = True  # once: the failure audit row written afterwards must go through
                _abort(context, execute)
                raise OperationalError(f"injected database failure at write {self.fail_at}")
        return execute(sql, params, many, context)


@contextmanager
def write_faults(fail_at: int | None = None, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[WriteFaults]:
    """Count (or fail at the ``fail_at``-th, 1-based) INSERT/UPDATE/DELETE run on ``using`` in this thread."""
    faults = WriteFaults(fail_at=fail_at)
    with connections[using].execute_wrapper(faults):
        yield faults


def _abort(context: dict[str, Any], execute: Callable[..., Any]) -> None:
    """On PostgreSQL, make the server itself abort the transaction, as a real failed statement would."""
    connection = context["connection"]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    try:
        execute("SELECT 1/0", None, False, context)
    except DatabaseError:
        pass


@contextmanager
def failing_commit(*, using: str = DEFAULT_DB_ALIAS, times: int = 1) -> Iterator[list[int]]:
    """Make the next ``times`` COMMITs on ``using`` (this thread's connection) fail as a serialization
    failure or a deferred constraint would: the transaction is rolled back and ``OperationalError`` raised.

    Needs a test that really commits (``django_db(transaction=True)``). Yields a one-item list with the
    number of commits that were failed.
    """
    connection = connections[using]
    original = connection.commit
    failed = [0]

    def commit() -> None:
        if failed[0] < times:
            failed[0] += 1
            raise OperationalError("injected failure at COMMIT")
        original()

    connection.commit = commit  # type: ignore[method-assign]
    try:
        yield failed
    finally:
        connection.commit = original  # type: ignore[method-assign]
