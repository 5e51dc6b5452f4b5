"""Catalogue services: every operation, with the acting principal, checked in one place.

Interfaces (CLI, REST, GraphQL, portal) call these and never re-check.
"""
