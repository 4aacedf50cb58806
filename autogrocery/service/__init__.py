"""The application's facade over the actors, the one door the API, the chain's relay
and the commands call: `System` (`system`: async methods, one message to one actor
through the runtime's bridge, or a read of the store), the checks it makes on what it
is given (`system_checks`), and the operators' stock reports (`stock_reports`)."""

from autogrocery.service.system import OrderLimits, System

__all__ = ["OrderLimits", "System"]
