"""Autogenerate: compare the database with the models, and write the migration for review.

compare (``compare/``, with per-dialect rules in ``dialects/``) → op tree (``operations.ops``
plus the few ops of ``autogenerate.ops``) → optional rewrite (``rewriter.py``) → Python
source (``render/``). ``api.py`` ties them together.
"""
