"""Records are one backend call per page (keyset paging): nothing to batch."""
