"""Pure domain (stdlib only): models, messages, events, errors, the pricing rule, the
catalog and its search, and stock commands in plain words."""

__all__ = [
    "catalog",
    "conversation",
    "errors",
    "events",
    "messages",
    "models",
    "money",
    "phrasebook",
    "plainwords",
    "pricing",
    "search",
    "validation",
    "vocabulary",
    "words",
]
