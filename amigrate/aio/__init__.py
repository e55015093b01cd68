"""The async shell around the sync core: engines, connections, env.py, many databases."""
