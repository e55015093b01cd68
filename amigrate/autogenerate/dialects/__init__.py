"""Per-dialect comparison rules: type synonyms, default normalisation, reflection quirks."""
