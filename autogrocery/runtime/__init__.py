"""The actor runtime the actors stand on, and know nothing of any one actor: the
batching actor base (`base`), the unit of work of one batch (`unit`), how answers
travel back (`replies`), asking actors from asyncio without blocking the loop
(`bridge`), live events from actor threads to asyncio subscribers (`eventbus`), the
timer thread (`scheduler`), and what every actor is given (`context`).

Below the actors and above the store: a batch commits through the store's shared
connection (`store.shared`, `store.statements`)."""

__all__ = ["base", "bridge", "context", "eventbus", "replies", "scheduler", "unit"]
