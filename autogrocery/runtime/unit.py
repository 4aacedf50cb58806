"""The unit of work of one batch: its writes, its undo log, its effects and answers.

An actor handles a batch of messages against its in-memory state. Each message
(an item) stages what it wrote, how to undo its changes to memory, and what should
happen once its writes are durable (answers, messages to other actors, events). An
item that fails is undone alone and answered with its error; the others go on. Then
the whole batch commits in one transaction, and only after the commit are answers
released and effects run: durable before acknowledged, one commit per batch.

Writes are grouped by statement (one `executemany` per statement, in the order each
statement first appeared), so statements of different kinds in one batch must not
depend on each other's order. Actors keep that true by writing each entity's final
state once per batch (their `before_commit` hook) and appending to logs otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from autogrocery.runtime.replies import Answer, ReplyTo, Sink
from autogrocery.store.statements import Statement, Value

log = logging.getLogger(__name__)

Params = tuple[Value, ...]
Effect = Callable[[], object]  # what it returns is not used


class UnitOfWork:
    """Everything is staged in flat lists; an item's share is what it appended since
    `begin_item`, so a failed item is cut off the ends of the lists."""

    __slots__ = (
        "_answers",
        "_effects",
        "_forwarded",
        "_marks",
        "_undo",
        "_writes",
        "forwarded",
        "refusal",
        "reply_to",
    )

    def __init__(self) -> None:
        self._writes: list[tuple[Statement, Params]] = []
        self._undo: list[Effect] = []
        self._effects: list[Effect | tuple[str, object]] = []  # (peer, message) for a tell
        self._answers: list[tuple[ReplyTo, object, BaseException | None]] = []
        # Callers whose answer was handed to a peer: the peer answers after this commit,
        # so if the commit fails, nobody would; `fail_answers` answers them.
        self._forwarded: list[ReplyTo] = []
        self._marks = (0, 0, 0, 0)
        self.reply_to: ReplyTo | None = None  # the current item's, for forwarding
        self.forwarded = False
        self.refusal: Exception | None = None  # the current item's answer is this error

    # --- what a handler stages -------------------------------------------------------

    def write(self, statement: Statement, params: Params) -> None:
        self._writes.append((statement, params))

    def undo(self, fn: Effect) -> None:
        """How to take back a change the current item made to memory."""
        self._undo.append(fn)

    def then(self, fn: Effect) -> None:
        """Run after the commit (publish an event, hand tasks to robots ...)."""
        self._effects.append(fn)

    def tell(self, peer: str, message: object) -> None:
        """Tell a peer actor after the commit; all of a batch's messages to one peer
        travel as one `Batch`."""
        self._effects.append((peer, message))

    # --- the batch's life ------------------------------------------------------------

    def begin_item(self, reply_to: ReplyTo | None) -> None:
        self.reply_to = reply_to
        self.forwarded = False
        self.refusal = None
        self._marks = (len(self._writes), len(self._undo), len(self._effects), len(self._forwarded))

    def abort_item(self) -> None:
        """The current item failed: undo its changes to memory, drop what it staged."""
        writes, undo, effects, forwarded = self._marks
        try:
            for fn in reversed(self._undo[undo:]):
                fn()
        finally:
            del self._writes[writes:]
            del self._undo[undo:]
            del self._effects[effects:]
            del self._forwarded[forwarded:]

    def answer(self, reply_to: ReplyTo, value: object, error: BaseException | None) -> None:
        self._answers.append((reply_to, value, error))

    def forwarding(self, reply_to: ReplyTo | None) -> None:
        """The current item is handed to a peer, which answers its caller (if any)
        after the commit."""
        if reply_to is not None:
            self._forwarded.append(reply_to)
        self.forwarded = True

    @property
    def writes(self) -> dict[Statement, list[Params]]:
        """The staged rows by statement, statements in the order they first appeared."""
        grouped: dict[Statement, list[Params]] = {}
        for sql, params in self._writes:
            rows = grouped.get(sql)
            if rows is None:
                grouped[sql] = [params]
            else:
                rows.append(params)
        return grouped

    def has_writes(self) -> bool:
        return bool(self._writes)

    def rollback(self) -> None:
        """The commit failed: undo every item's changes to memory, newest first."""
        for fn in reversed(self._undo):
            fn()
        self._undo.clear()
        self._writes.clear()
        self._effects.clear()

    def fail_answers(self, error: BaseException) -> None:
        """After a rollback nothing was done: every answer becomes `error`, and so does
        that of each caller handed to a peer (the hand-over never left)."""
        self._answers = [(reply, None, error) for reply, _, _ in self._answers]
        self._answers += [(reply, None, error) for reply in self._forwarded]
        self._forwarded.clear()

    def run_effects(self, send: Callable[[str, list[object]], None]) -> None:
        """After the commit: effects in order; messages to one peer go as one batch, at
        the place of the first of them."""
        tells: dict[str, list[object]] = {}
        order: list[Effect | str] = []
        for effect in self._effects:
            if type(effect) is tuple:
                peer, message = effect
                queued = tells.get(peer)
                if queued is None:
                    tells[peer] = [message]
                    order.append(peer)
                else:
                    queued.append(message)
            else:
                order.append(effect)  # type: ignore[arg-type]
        for step in order:
            try:
                if type(step) is str:
                    send(step, tells[step])
                else:
                    step()  # type: ignore[operator]
            except Exception:  # a bug: the batch is saved; the other effects still run
                log.exception("an effect of a committed batch failed")

    def deliver_answers(self) -> None:
        answers = self._answers
        if not answers:
            return
        self._answers = []
        first = answers[0][0].sink
        if all(reply.sink is first for reply, _, _ in answers):
            first.deliver([(reply.token, value, error) for reply, value, error in answers])
            return
        by_sink: dict[int, tuple[Sink, list[Answer]]] = {}
        for reply, value, error in answers:
            entry = by_sink.get(id(reply.sink))
            if entry is None:
                by_sink[id(reply.sink)] = (reply.sink, [(reply.token, value, error)])
            else:
                entry[1].append((reply.token, value, error))
        for sink, grouped in by_sink.values():
            sink.deliver(grouped)
