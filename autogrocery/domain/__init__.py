"""Pure domain (stdlib only): models, messages, events, errors, the pricing rule, the
catalog and its search, and stock commands in plain words."""

__all__ = [
    "catalog",
    "command_dialogue",
    "command_draft",
    "command_questions",
    "errors",
    "events",
    "messages",
    "models",
    "money",
    "open_conversations",
    "phrasebook",
    "plainwords",
    "pricing",
    "search",
    "validation",
    "vocabulary",
    "words",
]
