"""Mutations for contributors; each calls a catalogue service with the acting principal."""

from __future__ import annotations

import graphene


class Mutations(graphene.ObjectType):
    pass
