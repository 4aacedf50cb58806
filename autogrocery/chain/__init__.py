"""A chain of stores over NATS JetStream: the wire contract (`protocol`), the
nats-server processes (`natsd`), join files, and the store's relay (docs/chain.md)."""
