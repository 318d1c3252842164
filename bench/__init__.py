"""Benchmarks (`make bench`): every figure is reported beside the baseline measured in the same run."""
