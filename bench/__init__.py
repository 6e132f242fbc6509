"""Performance bench of the pipeline against a floor, a naive baseline and the standard tools.

`python -m bench` (see bench/__main__.py for the options) generates the workloads, measures every
row side by side on the same files, prints a table, writes the figures to bench/results/latest.json
and the tables to docs/performance.md.
"""
