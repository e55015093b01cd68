"""Comparator: checks (to be written)."""
