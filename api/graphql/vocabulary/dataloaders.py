"""The vocabulary is static code (schema.vocabularies): nothing to batch."""
