//! The spanned document tree: YAML and JSON parsed with budgets, every node carrying its line and column.
