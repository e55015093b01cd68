"""Compare a SchemaReflection with the models, into an UpgradeOps tree."""
