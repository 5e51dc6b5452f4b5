"""Concrete URLs for every rule of the app's url_map (so that suites walk the real routes)."""

from __future__ import annotations

from werkzeug.routing import Rule

#: Sample values for route arguments that are not a dataset slug.
SAMPLES = {
    "code": "water",
    "number": "1",
    "name": "package_list",
    "filename": "css/portal.css",
    "token": "not-a-real-invitation",
    "token_id": "1",
    "session_id": "1",
    "user_id": "1",
    "client_id": "nope",
    "draft_id": "0" * 32,
    "job_id": "0" * 32,
    "version_id": "0" * 32,
    "upload_id": "0" * 32,
    "run_id": "0" * 32,
    "review_id": "0" * 32,
    "partnership_id": "0" * 32,
    "endorsement_id": "0" * 32,
    "ref": None,  # a dataset slug
    "slug": None,  # a dataset or organisation slug
}


def urls_for(rule: Rule, slug: str, org: str = "samata") -> list[str]:
    """Every concrete URL for ``rule`` (one per value of an ``any(...)`` converter)."""
    urls = [""]
    for is_dynamic, part in rule._trace:  # noqa: SLF001 - the rule's own parse of its pattern
        if not is_dynamic:
            urls = [u + part for u in urls]
            continue
        conv = rule._converters[part]  # noqa: SLF001
        if hasattr(conv, "items"):  # AnyConverter
            choices = list(conv.items)
        elif part == "slug" and rule.rule.startswith(
            ("/organisations", "/orgs", "/api/v1/organisations")
        ):
            choices = [org]
        elif SAMPLES.get(part, "x") is None:
            choices = [slug]
        else:
            choices = [SAMPLES.get(part, "x")]
        urls = [u + c for u in urls for c in choices]
    return [u.split("|", 1)[1] if "|" in u else u for u in urls]


def rules(app, method: str):
    for rule in app.url_map.iter_rules():
        if method in (rule.methods or ()):
            yield rule
