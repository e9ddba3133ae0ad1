"""Offline evaluation on the shop's own data: the suites (`suites/`, one per `aisle eval`
name), the eval sets (`sets/`), the report, and the benchmarks (`benchmarks/`, each run as
`python -m evals.benchmarks.<name>`)."""
