//! Shared fixtures for the HealBot benchmarks.
