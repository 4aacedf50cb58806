"""autogrocery: a whole automated grocery store in one async actor system."""

__all__ = ["__version__"]

from importlib.metadata import PackageNotFoundError, version

try:  # one version: the package's own, as installed (pyproject.toml sets it)
    __version__ = version("autogrocery")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
