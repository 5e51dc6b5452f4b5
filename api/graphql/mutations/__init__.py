"""Mutations for contributors; each calls a catalogue service with the acting principal."""

from api.graphql.mutations.schema import Mutations

__all__ = ["Mutations"]
