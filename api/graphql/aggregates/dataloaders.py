"""Aggregates are one cube lookup per query: nothing to batch."""
