"""The eval suites, one file a suite; `evals/run.py` runs them for `aisle eval`."""
