"""Fakes and hooks shipped for tests, benchmarks and the demo (never used in production paths
unless explicitly switched on by an environment variable)."""
