"""Messages that are answered name the type of their answer: `PreviewOrder` is an
`Answered[OrderRecord]`. The ask from the event loop (`System.ask`, `AsyncBridge.send`)
then returns that type, not `Any`, so a caller that reads the wrong field of an answer
fails the type check instead of a request."""

from __future__ import annotations

from typing import Generic, TypeVar

A = TypeVar("A", covariant=True)


class Answered(Generic[A]):
    """Base of a message whose actor (or the actor it hands it to) answers an `A`."""

    __slots__ = ()
