"""`autogrocery bench`: an end-to-end load generator, measured from the outside."""

from autogrocery.bench.runner import BenchOptions, run_bench

__all__ = ["BenchOptions", "run_bench"]
