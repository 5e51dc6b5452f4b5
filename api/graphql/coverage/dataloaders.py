"""Coverage reads its versions in one query inside the resolver: nothing to batch."""
