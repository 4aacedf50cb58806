"""Pure domain: models, messages, events, errors and the pricing rule (stdlib only)."""

__all__ = ["errors", "events", "messages", "models", "money", "pricing", "validation"]
