"""Benchmarks run by `make bench`: tables of medians and ratios against same-run baselines."""
