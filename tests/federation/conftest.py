"""A published catalogue on a live node, shared (read-only) by the federation suites."""

from __future__ import annotations

import pytest

from .nodes import Node


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory):
    """Node with three public datasets of two organisations (two topics sets, one in Nepali too)."""
    root = tmp_path_factory.mktemp("federation")
    node = Node(root, "catalogue")
    water = node.publish_demo(root, org="samata", rows=300, seed=11)
    health = node.publish_demo(
        root,
        org="samata",
        rows=200,
        seed=12,
        slug="health-posts-survey",
        title={"en": "Barriers to health posts for people with disabilities"},
        topics=["health", "disability"],
    )
    other = node.publish_demo(
        root,
        org="janajati-forum",
        rows=200,
        seed=13,
        slug="janajati-water-points",
        title={"en": "Water points in Janajati settlements"},
        topics=["water", "indigenous-peoples"],
    )
    node.published = {"water": water, "health": health, "other": other}
    yield node
    node.close()
