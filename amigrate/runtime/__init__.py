"""The migration runtime: the active `op` and `context`, the version table, the steps."""
