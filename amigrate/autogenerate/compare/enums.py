"""Comparator: enums (to be written)."""
