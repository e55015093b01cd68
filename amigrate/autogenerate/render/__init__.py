"""Ops → Python source for revision files."""
