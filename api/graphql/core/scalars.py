"""Scalars shared by the domains."""

from __future__ import annotations

from graphene.types.generic import GenericScalar


class JSON(GenericScalar):
    """Any JSON value: an object, list, string, number, boolean or null."""
