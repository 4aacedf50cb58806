"""autogrocery: a whole automated grocery store in one async actor system."""

__all__ = ["__version__"]

__version__ = "0.1.0"
