"""Access to the running services from inside a request."""

from __future__ import annotations

from flask import current_app, g

from catalog.principal import ANONYMOUS, Principal


def runtime():
    """The app's Runtime (database, search, files, jobs)."""
    return current_app.extensions["cgd"]


def current_principal() -> Principal:
    """Who is acting in this request (set by the portal session or an OAuth2 token)."""
    return getattr(g, "cgd_principal", None) or ANONYMOUS
