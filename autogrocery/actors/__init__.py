"""The actors: stock (and its helpers `stock_*`, `chain_facts`), ordering (its records
in `ordering_records`), fulfilment, the robots and analytics (its storage in
`analytics_storage`), and the supervisor that starts, watches and stops them. They
stand on the actor runtime (`autogrocery.runtime`); the application reaches them
through the `System` facade (`autogrocery.service`)."""

__all__ = [
    "analytics",
    "analytics_storage",
    "chain_facts",
    "fulfilment",
    "ordering",
    "ordering_records",
    "robot",
    "stock",
    "stock_book",
    "stock_chain",
    "stock_items",
    "stock_keeping",
    "stock_views",
    "supervisor",
]
