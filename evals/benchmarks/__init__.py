"""The benchmarks, one file each: `python -m evals.benchmarks.<name>`. Baseline and candidate
run in one process and print their ratio; none of them is a test."""
