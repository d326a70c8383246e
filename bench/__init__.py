"""Switchboard benchmarks (not part of the test run): `bash bench/run.sh`.

Each section is a module with `TITLE` and `run(opts) -> list[Table]` (see bench/__main__.py);
the runner prints every section's tables in one run, so the ratios are measured side by side.
"""
