"""Helpers the tests and benchmarks share: data builders, real servers, the hub stack,
page checks, a mail sink, the command line, the scheduler."""
