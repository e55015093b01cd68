"""Comparator: indexes (to be written)."""
