"""The HTTP contract as types: the msgspec Structs of every request, response and live
event body (docs/api.md, docs/chain.md), shared by the API that serves them and the clients that
read them. See `base.py`."""
