//! The compiled service dependency graph and its queries.
