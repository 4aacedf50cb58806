"""The actors: stock (its book and parts `stock_*`, its orders in `ordering` with their
records in `ordering_records`, `chain_facts`), fulfilment, the robots and analytics (its storage in
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
