"""GraphQL of partnerships, quality reviews and endorsements (catalogue services decide)."""
