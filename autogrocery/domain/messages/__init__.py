"""Messages between actors (commands imperative, events past tense), one module per
actor that takes them: `stock`, `ordering`, `fulfilment` (with its robots),
`analytics`, `markdowns` (stock's lots marked down, and those at risk), `chain` (what
the head office asks of this store's stock) and
`lifecycle` (what the supervisor tells any actor). Each command's docstring names the
actor that takes it.

Everything that may cross hosts (robot tasks, task reports, metrics) carries a
`kind` and a schema version `v` on the wire and encodes to plain JSON data (`wire`).
"""

__all__ = [
    "analytics",
    "chain",
    "fulfilment",
    "lifecycle",
    "markdowns",
    "ordering",
    "stock",
    "wire",
]
