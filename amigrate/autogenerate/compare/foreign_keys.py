"""Comparator: foreign_keys (to be written)."""
