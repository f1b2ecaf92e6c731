"""The support line's benchmark: `make bench` (see `bench/__main__.py` and BENCHMARKS.md)."""
