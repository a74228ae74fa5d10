"""Benchmarks run as project commands (``retain bench …``): the job and a baseline in the same process."""

__all__: list[str] = []
