"""The head office of a chain of stores (`autogrocery central`): the hub nats-server,
the applier that takes every store's events once into the read model, the sender of
transfers, catalog versions and high-water marks, and the head office's HTTP API
(docs/chain.md)."""
