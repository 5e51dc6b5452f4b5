"""A read subset of the CKAN action API (``/api/3/action/``), in CKAN's response envelope.

Enough for ``ckanapi`` and ckanext-harvest's CKAN harvester to read this
catalogue unmodified: ``package_search`` (``q`` with its ``field:value``
clauses, ``fq`` on organization, tags and a few more fields with Solr's
``field:(a OR b)`` groups and date math, ``rows`` capped at 1000, ``start``,
``sort``, ``facet.field``, ``facet.limit``, ``facet.mincount``),
``package_show``, ``package_list``, ``current_package_list_with_resources``,
``resource_show``, ``tag_list``, ``license_list``, ``group_list`` (empty: topics are
tags), ``organization_list``, ``organization_show``, ``status_show``, ``site_read`` and
``help_show``.  Only public datasets exist here; a withdrawn dataset is a ``Not Found
Error`` and drops out of every list. Errors carry CKAN's ``__type``: a query Solr could
not run is a ``Search Query Error`` (400), a write action an ``Authorization Error``, an
action CKAN does not have a ``Bad Request``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy import func, select

from api import json_bodies
from api.context import runtime
from api.federation.published import (
    PublishedDataset,
    base_url_of,
    keywords_of,
    published_by_ids,
    published_one,
    published_page,
)
from catalog.models import Dataset, Organisation
from catalog.services import datasets as dataset_service
from catalog.services import organisations as organisation_service
from indexer.search.base import MAX_LIMIT, SearchQuery
from indexer.search.text import words
from schema.errors import CGDError, NotFound
from schema.licences import LICENCES
from schema.topics import TOPICS

bp = Blueprint("ckan", __name__)

CKAN_VERSION = "2.10.4"  # the API behaviour we follow (what harvesters look at)
MAX_ROWS = 1000
DEFAULT_ROWS = 10

#: CKAN facet/filter field -> our search field (where the search backend can do it).
BACKEND_FIELDS = {"organization": "organisation", "license_id": "licence", "source": "source"}
#: Error types ckanapi turns back into exceptions, by CKAN's HTTP status for them.
ERROR_TYPES = {
    400: "Bad Request",
    404: "Not Found Error",
    403: "Authorization Error",
    409: "Validation Error",
}
#: CKAN's write actions: they exist in CKAN, so a client is told it may not, not that there
#: is no such action (datasets come here by authenticated upload, not through this API).
WRITE_ACTIONS = frozenset(
    f"{thing}_{verb}"
    for thing in ("package", "resource", "organization", "group", "tag", "user", "member")
    for verb in ("create", "update", "patch", "delete", "purge")
) | {"package_revise", "dataset_purge", "resource_view_create", "package_relationship_create"}


class ActionError(CGDError):
    """A CKAN-style error: ``__type`` and a message (validation errors name their fields).

    ``kind`` is the ``__type`` when the HTTP status alone does not tell it
    (``Search Query Error`` and ``Bad Request`` are both 400).
    """

    def __init__(
        self,
        message: str,
        status: int,
        fields: dict[str, list[str]] | None = None,
        kind: str | None = None,
    ):
        super().__init__(message=message, code="ckan_action_error", status=status)
        self.fields = fields or {}
        self.kind = kind


def _query_error(message: str) -> ActionError:
    """CKAN's answer to a query Solr cannot run: ``Search Query Error``, HTTP 400 (ckanapi's
    ``SearchQueryError``)."""
    return ActionError(f"Search Query is invalid: {message}", 400, kind="Search Query Error")


def _help_url(name: str) -> str:
    return f"{base_url_of(runtime().config)}/api/3/action/help_show?name={name}"


def _envelope(name: str, body: dict[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps({"help": _help_url(name), **body}, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
        headers={"Access-Control-Allow-Origin": "*"},
    )


def _error(name: str, err: CGDError) -> Response:
    status = err.status if err.status in ERROR_TYPES else 409
    kind = err.kind if isinstance(err, ActionError) and err.kind else ERROR_TYPES[status]
    error: dict[str, Any] = {"__type": kind, "message": err.message}
    if isinstance(err, ActionError):
        error.update(err.fields)
    elif err.problems:
        for p in err.problems:
            error.setdefault(p.field or "input", []).append(p.message)
    return _envelope(name, {"success": False, "error": error}, status)


# -- the request's parameters ------------------------------------------------------


def _params() -> dict[str, Any]:
    """Action parameters from the JSON body (ckanapi POSTs JSON), a form, or the query string."""
    out: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        out[key] = values if len(values) > 1 else values[0]
    if request.method == "POST":
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            out.update(body)
        elif request.form:
            out.update(request.form.to_dict())
    return out


def _int(params: dict, name: str, default: int, high: int, *, cap: bool = False) -> int:
    """A whole number from 0; above ``high`` it is an error, or ``high`` with ``cap`` (as CKAN
    caps ``rows`` at ``ckan.search.rows_max``)."""
    raw = params.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = -1
    if cap and value > high:
        return high
    if not 0 <= value <= high:
        raise ActionError(
            f"{name}: must be a whole number from 0 to {high}", 409, {name: [f"Must be 0..{high}"]}
        )
    return value


def _bool(params: dict, name: str, default: bool = False) -> bool:
    raw = params.get(name, default)
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in {"1", "true", "yes", "on"}


def _list(value: Any) -> list[str]:
    """A list from a JSON array, a JSON string holding one, or a single value."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json_bodies.loads(text)
        except ValueError as exc:
            raise ActionError(
                "facet.field: not a JSON list", 409, {"facet.field": ["Not a JSON list"]}
            ) from exc
        return [str(v) for v in parsed]
    return [text]


# -- fq: the Solr filter queries harvesters send ----------------------------------

_QUOTED_VALUE = r'"(?:[^"\\]|\\.)*"'
#: A clause's value: "quoted", a [range], a (group) or a bare word.
_FQ_VALUE = rf"{_QUOTED_VALUE}|\[[^\]]*\]|\((?:[^()\"]|{_QUOTED_VALUE})*\)|[^\s()]+"
_FQ_TOKEN = re.compile(
    r"\s*(?:(?P<op>OR\b|AND\b|\|\||&&|\(|\))|(?P<sign>[+-]?)(?P<name>[A-Za-z_][\w.]*):"
    rf"(?P<raw>{_FQ_VALUE}))"
)
#: The values inside ``field:(a OR "b c")``, and the operators between them.
_GROUP_ITEM = re.compile(
    rf"\s*(?:(?P<op>OR|AND|\|\||&&)(?=[\s\"(]|$)|(?P<value>{_QUOTED_VALUE}|[^\s()]+))"
)
_KNOWN_FQ = {
    "organization",
    "owner_org",
    "tags",
    "license_id",
    "res_format",
    "name",
    "id",
    "source",
    "metadata_modified",
    "metadata_created",
    "groups",
    "dataset_type",
    "type",
    "state",
    "capacity",
    "private",
    "title",
    "notes",
    "num_resources",
    "num_tags",
}
#: Fields whose values are counts, compared as whole numbers (``[1 TO *]`` ranges too).
_COUNT_FIELDS = {"num_resources", "num_tags"}


@dataclass
class FilterQuery:
    """``fq`` split into what the search backend answers and what is checked per dataset."""

    backend: dict[str, list[str]] = field(default_factory=dict)
    checks: list[Callable[[PublishedDataset], bool]] = field(default_factory=list)
    nothing: bool = False  # a clause nothing here can match (e.g. groups:x, type:harvest)


# Solr date math: a base (NOW or an ISO date) then steps such as -1DAY, +2HOURS or /DAY.
_DATE_MATH = re.compile(r"(?P<op>[+-/])(?P<n>\d*)(?P<unit>[A-Z]+)")
_UNITS = {
    "YEAR": "year",
    "MONTH": "month",
    "DAY": "day",
    "DATE": "day",
    "HOUR": "hour",
    "MINUTE": "minute",
    "SECOND": "second",
    "MILLI": "millisecond",
    "MILLISECOND": "millisecond",
}


def _date_unit(raw: str) -> str:
    unit = _UNITS.get(raw) or _UNITS.get(raw[:-1] if raw.endswith("S") else "")
    if unit is None:
        raise _query_error(f"unknown date unit {raw!r}")
    return unit


def _add(value: datetime, n: int, unit: str) -> datetime:
    if unit in {"year", "month"}:
        months = value.year * 12 + value.month - 1 + (n * 12 if unit == "year" else n)
        year, month = divmod(months, 12)
        last = (datetime(year + (month == 11), (month + 1) % 12 + 1, 1) - timedelta(days=1)).day
        return value.replace(year=year, month=month + 1, day=min(value.day, last))
    return value + timedelta(**{f"{unit}s": n})


_ORDER = ("year", "month", "day", "hour", "minute", "second", "millisecond")


def _round_down(value: datetime, unit: str) -> datetime:
    """``value`` rounded down to the start of its ``unit`` (Solr's ``/DAY``)."""
    finer = _ORDER[_ORDER.index(unit) + 1 :]
    reset = {f: (1 if f in {"month", "day"} else 0) for f in finer[:-1]}
    reset["microsecond"] = value.microsecond // 1000 * 1000 if unit == "millisecond" else 0
    return value.replace(**reset)


def _date(text: str) -> datetime | None:
    """A range end of ``fq``: ``*``, an ISO date or time, or ``NOW``, each with Solr's date
    math after it (``NOW-1DAY``, ``NOW/DAY``, ``2024-01-01T00:00:00Z+6MONTHS``)."""
    text = text.strip()
    if text in {"*", ""}:
        return None
    m = re.match(r"NOW|\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?Z?", text)
    base = m.group(0) if m else ""
    if base == "NOW":
        value = datetime.now(UTC)
    else:
        try:
            value = datetime.fromisoformat(base.rstrip("Z"))
        except ValueError:
            raise _query_error(f"bad date {text!r} in fq") from None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
    pos = len(base)
    for step in _DATE_MATH.finditer(text, pos):
        if step.start() != pos:
            break
        unit = _date_unit(step.group("unit"))
        if step.group("op") == "/":
            value = _round_down(value, unit)
        elif not step.group("n"):
            raise _query_error(f"bad date {text!r} in fq: {step.group(0)!r} needs a number")
        else:
            n = int(step.group("n"))
            value = _add(value, -n if step.group("op") == "-" else n, unit)
        pos = step.end()
    if pos != len(text):
        raise _query_error(f"bad date {text!r} in fq")
    return value


def _bounds(spec: str) -> tuple[str, str]:
    parts = re.split(r"\s+TO\s+", spec[1:-1].strip())
    if len(parts) != 2:
        raise _query_error(f"bad range {spec!r} in fq")
    return parts[0], parts[1]


def _range_check(attr: str, spec: str) -> Callable[[PublishedDataset], bool]:
    low, high = (_date(b) for b in _bounds(spec))

    def check(item: PublishedDataset) -> bool:
        value = getattr(item, attr)
        return (low is None or value >= low) and (high is None or value <= high)

    return check


def _count_of(name: str, item: PublishedDataset) -> int:
    return len(item.distributions) if name == "num_resources" else len(item.keywords)


def _count_check(name: str, raw: str) -> Callable[[PublishedDataset], bool]:
    def whole(text: str) -> int | None:
        if text.strip() == "*":
            return None
        try:
            return int(text)
        except ValueError:
            raise _query_error(f"{name} takes whole numbers, not {text!r}") from None

    if raw.startswith("["):
        low, high = (whole(b) for b in _bounds(raw))
    else:
        low = high = whole(_unquote(raw))
    return lambda item: (
        (low is None or _count_of(name, item) >= low)
        and (high is None or _count_of(name, item) <= high)
    )


def _text_words(text: str) -> set[str]:
    return {w.casefold() for w in words(text or "")}


def _text_check(name: str, value: str) -> Callable[[PublishedDataset], bool]:
    """Solr's text fields: every word of ``value`` is a word of the title (or notes) in any
    of its languages, case aside."""
    wanted = _text_words(value)

    def check(item: PublishedDataset) -> bool:
        get = item.title if name == "title" else item.description
        return wanted <= _text_words(" ".join(get(lang) or "" for lang in ("en", "ne")))

    return check


def _value_check(name: str, value: str) -> Callable[[PublishedDataset], bool]:
    if name in {"title", "notes"}:
        return _text_check(name, value)
    if name.startswith("extras_"):
        key = name.removeprefix("extras_")
        return lambda item: any(
            e["key"] == key and e["value"] == value for e in package_extras(item)
        )
    if name == "tags":
        return lambda item: value in item.keywords
    if name == "res_format":
        return lambda item: value.upper() in {d.format.upper() for d in item.distributions}
    if name == "name":
        return lambda item: item.dataset.slug == value
    if name == "id":
        return lambda item: item.dataset.id == value
    if name == "organization":
        return lambda item: item.publisher["slug"] == value
    if name == "owner_org":
        return lambda item: (
            value
            in {
                organisation_id(item.dataset.organisation, item.base_url),
                str(item.dataset.organisation_id),
                item.publisher["slug"],
            }
        )
    if name == "license_id":
        return lambda item: item.licence_id == value
    if name == "source":
        return lambda item: item.dataset.source == value
    return lambda item: False


Term = tuple[str, str, str]  # (sign, field, raw value)


def _known_field(name: str) -> bool:
    return name in _KNOWN_FQ or (name.startswith("extras_") and len(name) > len("extras_"))


def _group_values(name: str, raw: str) -> tuple[list[str], bool]:
    """The values of ``field:(a OR b)`` and whether they are ORed (without an operator, they
    are ANDed: CKAN runs Solr with ``q.op=AND``)."""
    values, ops, pos, inner = [], set(), 0, raw[1:-1]
    while inner[pos:].strip():
        m = _GROUP_ITEM.match(inner, pos)
        if m is None:
            raise _query_error(f"cannot read {name}:{raw[:100]} in fq")
        pos = m.end()
        if m.group("op"):
            ops.add("OR" if m.group("op") in {"OR", "||"} else "AND")
        else:
            values.append(m.group("value"))
    if not values or len(ops) > 1:
        raise _query_error(f"cannot read {name}:{raw[:100]} in fq (use one of OR, AND)")
    return values, ops == {"OR"}


def _tokens(text: str) -> list[list[Term]]:
    """``fq`` as groups of terms: terms joined by OR form a group; groups are ANDed."""
    groups: list[list[Term]] = []
    pos, join_next = 0, False
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _FQ_TOKEN.match(text, pos)
        if m is None:
            raise _query_error(f"cannot read {text[pos:].strip()[:100]!r} in fq (use field:value)")
        pos = m.end()
        op = m.group("op")
        if op in {"OR", "||"}:
            if not groups:
                raise _query_error("OR needs a clause before it in fq")
            join_next = True
            continue
        if op:
            continue  # AND and parentheses: clauses are ANDed anyway
        sign, name, raw = m.group("sign"), m.group("name"), m.group("raw")
        if not _known_field(name):
            raise _query_error(f"undefined field {name!r} in fq")
        if raw.startswith("("):
            values, ored = _group_values(name, raw)
            terms = [(sign, name, v) for v in values]
            if ored and sign != "-":
                clauses = [terms]
            else:  # ANDed values, or -field:(a OR b): none of them
                clauses = [[t] for t in terms]
        else:
            clauses = [[(sign, name, raw)]]
        if join_next:
            if len(clauses) > 1:
                raise _query_error(f"cannot OR {name}:{raw[:100]} with the clause before it")
            groups[-1].extend(clauses[0])
            join_next = False
        else:
            groups.extend(clauses)
    return groups


def _unquote(raw: str) -> str:
    return raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw


def _always(result: bool) -> Callable[[PublishedDataset], bool]:
    return lambda item: result


def _term_check(term: Term) -> Callable[[PublishedDataset], bool]:
    """One clause as a test of a dataset (negation included)."""
    sign, name, raw = term
    value = _unquote(raw)
    if name in {"metadata_modified", "metadata_created"}:
        if not raw.startswith("["):
            raise _query_error(f"{name} takes a [from TO to] range in fq")
        check = _range_check("modified" if name == "metadata_modified" else "created", raw)
    elif name in _COUNT_FIELDS:
        check = _count_check(name, raw)
    elif name == "private":
        check = _always(value.lower() == "false")
    elif name in {"dataset_type", "type"}:
        check = _always(value == "dataset")
    elif name in {"state", "capacity"}:
        check = _always(value in {"active", "public"})
    elif name == "groups":
        check = _always(False)  # there are no CKAN groups here
    else:
        check = _value_check(name, value)
    return (lambda c: lambda i: not c(i))(check) if sign == "-" else check


def _backend_field(term: Term) -> str | None:
    """The search backend field that can answer a positive clause itself, if any."""
    sign, name, raw = term
    if sign == "-":
        return None
    if name in BACKEND_FIELDS:
        return BACKEND_FIELDS[name]
    if name == "tags" and _unquote(raw) in TOPICS:
        return "topic"
    return None


def parse_fq(text: str) -> FilterQuery:
    """Parse Solr-style ``field:value`` clauses: ANDed, ``OR`` between clauses, ``-`` negates,
    ``[from TO to]`` ranges on the date fields."""
    fq = FilterQuery()
    for group in _tokens((text or "").strip()):
        checks = [_term_check(t) for t in group]  # validates every clause
        fields = {_backend_field(t) for t in group}
        if len(fields) == 1 and None not in fields:
            # One backend field, values ORed: exactly what a backend filter does.
            name = fields.pop()
            if name in fq.backend:  # the same field ANDed twice: the backend would OR them
                fq.checks.append(lambda i, cs=checks: any(c(i) for c in cs))
            else:
                fq.backend[name] = [_unquote(t[2]) for t in group]
            continue
        constant = [c for t, c in zip(group, checks, strict=True) if t[1] in _CONSTANT_FIELDS]
        if len(constant) == len(group):
            probe = any(c(None) for c in constant)  # constant clauses ignore the dataset
            fq.nothing = fq.nothing or not probe
            continue
        fq.checks.append(
            checks[0] if len(checks) == 1 else (lambda i, cs=checks: any(c(i) for c in cs))
        )
    return fq


_CONSTANT_FIELDS = {"dataset_type", "type", "state", "capacity", "groups", "private"}


_SORTS = {
    "score desc": "relevance",
    "rank desc": "relevance",
    "metadata_modified desc": "recent",
    "title_string asc": "title",
    "name asc": "title",
}
#: Sorts done here, over every match (the backends have no such order).
_LOCAL_SORTS = {
    "id asc",
    "id desc",
    "name desc",
    "title_string desc",
    "metadata_modified asc",
    "metadata_created asc",
    "metadata_created desc",
}


def _sort(params: dict) -> tuple[str, str | None]:
    """The backend sort, and a sort done here when the backend has no such order."""
    raw = (
        re.sub(r"\s+", " ", str(params.get("sort") or "score desc, metadata_modified desc"))
        .strip()
        .lower()
    )
    first = raw.split(",")[0].strip()
    if first in _SORTS:
        return _SORTS[first], None
    if first in _LOCAL_SORTS:
        return "recent", first
    raise _query_error(f'Invalid "sort" parameter {raw!r}')


# -- package and organisation dictionaries -----------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() if value else None


def organisation_id(org: Organisation, base: str) -> str:
    """An organisation's CKAN id: a UUID named by its page's address, the same on every call
    and different on every portal (ckanext-harvest matches remote organisations by id)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{base}/organisations/{org.slug}"))


def organization_dict(
    org: Organisation, base: str, package_count: int | None = None
) -> dict[str, Any]:
    out = {
        "id": organisation_id(org, base),
        "name": org.slug,
        "title": org.name,
        "display_name": org.name,
        "description": org.description or "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "created": _iso(org.created_at),
        "extras": [{"key": "kind", "value": org.kind}],
        "url": f"{base}/organisations/{org.slug}",
    }
    if package_count is not None:
        out["package_count"] = package_count
    return out


def resource_dicts(item: PublishedDataset) -> list[dict[str, Any]]:
    """The CKAN resources (one per download) of a public dataset."""
    ds = item.dataset
    return [
        {
            "id": f"{ds.id}-{d.key}",
            "package_id": ds.id,
            "name": d.title,
            "description": d.description,
            "format": d.format,
            "mimetype": d.media_type or None,
            "url": d.download_url or d.access_url,
            "state": "active",
            "position": i,
            "created": _iso(item.issued),
            "last_modified": _iso(item.modified),
            "url_type": None,
        }
        for i, d in enumerate(item.distributions)
    ]


def package_extras(item: PublishedDataset) -> list[dict[str, str]]:
    """A public dataset's CKAN ``extras`` (what ``fq=extras_<key>:value`` filters on)."""
    ds = item.dataset
    extras = [{"key": "source", "value": ds.source}, {"key": "uri", "value": item.uri}]
    if item.country:
        extras.append({"key": "country", "value": item.country})
    if item.places:
        extras.append({"key": "places", "value": ", ".join(item.places)})
    start, end = item.period
    if start:
        extras.append({"key": "temporal_start", "value": start})
    if end:
        extras.append({"key": "temporal_end", "value": end})
    if item.languages:
        extras.append({"key": "language", "value": ", ".join(item.languages)})
    if item.provenance:
        extras.extend(
            [
                {"key": "harvest_source_title", "value": item.provenance.get("source_title") or ""},
                {"key": "harvest_url", "value": item.provenance.get("original_url") or ""},
                {"key": "harvest_original_id", "value": item.provenance.get("original_id") or ""},
            ]
        )
    return extras


def package_dict(item: PublishedDataset) -> dict[str, Any]:
    """A CKAN package dictionary for a public dataset."""
    ds = item.dataset
    tags = [
        {"name": k, "display_name": (TOPICS.get(k) or {}).get("en", k), "state": "active"}
        for k in item.keywords
    ]
    resources = resource_dicts(item)
    extras = package_extras(item)
    org = ds.organisation
    return {
        "id": ds.id,
        "name": ds.slug,
        "title": item.title("en"),
        "notes": item.description("en"),
        "url": item.landing_page,
        "version": str(item.version_number) if item.version_number is not None else None,
        "author": org.name,
        "author_email": None,
        "maintainer": item.contact.get("name") or org.name,
        "maintainer_email": item.contact.get("email"),
        "license_id": item.licence_id,
        "license_title": item.licence_title,
        "license_url": item.licence_url,
        "isopen": bool(item.licence_url),
        "owner_org": organisation_id(org, item.base_url),
        "organization": organization_dict(org, item.base_url),
        "private": False,
        "state": "active",
        "type": "dataset",
        "metadata_created": _iso(item.created),
        "metadata_modified": _iso(item.modified),
        "tags": tags,
        "num_tags": len(tags),
        "groups": [],
        "resources": resources,
        "num_resources": len(resources),
        "extras": extras,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def _facet_counts(items: list[PublishedDataset], name: str) -> Counter:
    counts: Counter = Counter()
    for item in items:
        if name == "organization":
            counts[item.publisher["slug"]] += 1
        elif name == "tags":
            counts.update(item.keywords)
        elif name == "res_format":
            counts.update({d.format for d in item.distributions if d.format})
        elif name == "license_id" and item.licence_id:
            counts[item.licence_id] += 1
        elif name == "source":
            counts[item.dataset.source] += 1
    return counts


def _facet_display(name: str, value: str, orgs: dict[str, str]) -> str:
    if name == "organization":
        return orgs.get(value, value)
    if name == "tags":
        return (TOPICS.get(value) or {}).get("en", value)
    return value


# -- actions ---------------------------------------------------------------------


_Q_CLAUSE = re.compile(rf"(?<!\S)[+-]?(?P<name>[A-Za-z_][\w.]*):(?:{_FQ_VALUE})")


def split_q(q: str) -> tuple[str, list[str]]:
    """``q`` as its words (for the full-text search) and its ``field:value`` clauses on the
    fields ``fq`` knows (ANDed with ``fq``, as Solr's ``q.op=AND`` does). ``*:*`` is everything;
    ``AND`` between words changes nothing, as words are ANDed anyway."""
    q = q.strip()
    if q in {"*:*", "*"}:
        return "", []
    clauses = [m.group(0) for m in _Q_CLAUSE.finditer(q) if _known_field(m.group("name"))]
    text = _Q_CLAUSE.sub(lambda m: " " if _known_field(m.group("name")) else m.group(0), q)
    text = re.sub(r"(?<!\S)(?:AND|&&)(?!\S)", " ", text)
    return re.sub(r"\s+", " ", text).strip(), clauses


def package_search(params: dict[str, Any]) -> dict[str, Any]:
    rt = runtime()
    base = base_url_of(rt.config)
    q, q_clauses = split_q(str(params.get("q") or ""))
    fq = parse_fq(
        " ".join([str(params.get("fq") or ""), *_list(params.get("fq_list")), *q_clauses])
    )
    rows = _int(params, "rows", DEFAULT_ROWS, MAX_ROWS, cap=True)
    mincount = _int(params, "facet.mincount", 1, 10**9)
    start = _int(params, "start", 0, 10**7)
    facet_fields = _list(params.get("facet.field"))
    facet_limit = (
        _int(params, "facet.limit", 50, 1000)
        if params.get("facet.limit") not in (None, "-1", -1)
        else 1000
    )
    backend_sort, local_sort = _sort(params)
    result: dict[str, Any] = {
        "count": 0,
        "results": [],
        "sort": params.get("sort") or "score desc, metadata_modified desc",
    }
    if fq.nothing:
        result.update(
            facets={f: {} for f in facet_fields},
            search_facets={f: {"title": f, "items": []} for f in facet_fields},
        )
        return result
    backend_facets = all(f in BACKEND_FIELDS for f in facet_fields)
    # Harvesters page with sort=id asc: ids alone give that order, so only one page is loaded.
    by_id = local_sort in {"id asc", "id desc"} and not fq.checks and backend_facets
    needs_all = bool(fq.checks) or local_sort is not None or not backend_facets

    with rt.db.session() as session:
        if not needs_all or by_id:
            hits = rt.search.search(
                SearchQuery(
                    text=q[:500],
                    filters=fq.backend,
                    lang="en",
                    limit=0 if by_id else rows,
                    offset=0 if by_id else start,
                    sort=backend_sort,
                    facets=tuple(BACKEND_FIELDS[f] for f in facet_fields),
                    facet_limit=facet_limit,
                ).validated()
            )
            if by_id:
                ids = sorted(
                    _all_hit_ids(rt.search, q, fq.backend, backend_sort),
                    reverse=local_sort == "id desc",
                )
                page_ids = ids[start : start + rows]
            else:
                page_ids = [h.id for h in hits.hits]
            items = published_by_ids(session, page_ids, base)
            total = hits.total
            counts = {
                f: Counter(dict(hits.facets.get(BACKEND_FIELDS[f], []))) for f in facet_fields
            }
        else:
            ids = _all_hit_ids(rt.search, q, fq.backend, backend_sort)
            matched = [
                i for i in published_by_ids(session, ids, base) if all(c(i) for c in fq.checks)
            ]
            if local_sort is not None:
                matched.sort(key=_local_sort_key(local_sort), reverse=local_sort.endswith("desc"))
            total = len(matched)
            counts = {f: _facet_counts(matched, f) for f in facet_fields}
            items = matched[start : start + rows]
        orgs = {o.slug: o.name for o in organisation_service.list_organisations(session)}
        result["count"] = total
        result["results"] = [package_dict(i) for i in items]
        shown = {
            f: [(v, c) for v, c in counts[f].most_common() if c >= mincount][:facet_limit]
            for f in facet_fields
        }
        result["facets"] = {f: dict(shown[f]) for f in facet_fields}
        result["search_facets"] = {
            f: {
                "title": f,
                "items": [
                    {"name": v, "display_name": _facet_display(f, v, orgs), "count": c}
                    for v, c in shown[f]
                ],
            }
            for f in facet_fields
        }
    return result


def _all_hit_ids(search, q: str, filters: dict[str, list[str]], sort: str) -> list[str]:
    ids: list[str] = []
    offset = 0
    while True:
        page = search.search(
            SearchQuery(
                text=q[:500],
                filters=filters,
                lang="en",
                limit=MAX_LIMIT,
                offset=offset,
                sort=sort,
                facets=(),
            ).validated()
        )
        ids.extend(h.id for h in page.hits)
        offset += MAX_LIMIT
        if offset >= page.total or not page.hits:
            return ids


def _local_sort_key(spec: str) -> Callable[[PublishedDataset], Any]:
    name = spec.split()[0]
    if name == "id":
        return lambda i: i.dataset.id
    if name == "name":
        return lambda i: i.dataset.slug
    if name == "title_string":
        return lambda i: ((i.title("en") or "").casefold(), i.dataset.slug)
    if name == "metadata_created":
        return lambda i: i.created
    return lambda i: i.modified


def _published_or_404(session, ref: str, base_url: str) -> PublishedDataset:
    """A public dataset by id or slug; anything else is CKAN's ``Not Found Error``."""
    try:
        return published_one(session, ref, base_url)
    except NotFound as exc:
        raise ActionError("Not found", 404) from exc


def package_show(params: dict[str, Any]) -> dict[str, Any]:
    ref = str(params.get("id") or params.get("name_or_id") or "").strip()
    if not ref:
        raise ActionError("Missing value: id", 409, {"id": ["Missing value"]})
    rt = runtime()
    with rt.db.session() as session:
        return package_dict(_published_or_404(session, ref, base_url_of(rt.config)))


def package_list(params: dict[str, Any]) -> list[str]:
    limit = _int(params, "limit", MAX_ROWS, 10**6) if "limit" in params else None
    offset = _int(params, "offset", 0, 10**7)
    with runtime().db.session() as session:
        stmt = (
            select(Dataset.slug)
            .where(*dataset_service.PUBLISHED)
            .order_by(Dataset.slug)
            .offset(offset)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(session.scalars(stmt))


def _package_counts(session) -> Counter:
    """Public datasets per organisation id, counted by the database."""
    return Counter(
        dict(
            session.execute(
                select(Dataset.organisation_id, func.count(Dataset.id))
                .where(*dataset_service.PUBLISHED)
                .group_by(Dataset.organisation_id)
            ).all()
        )
    )


def organization_list(params: dict[str, Any]) -> list[Any]:
    rt = runtime()
    base = base_url_of(rt.config)
    all_fields = _bool(params, "all_fields")
    limit = _int(params, "limit", MAX_ROWS, MAX_ROWS)
    offset = _int(params, "offset", 0, 10**7)
    with rt.db.session() as session:
        orgs = organisation_service.list_organisations(session)
        counts = _package_counts(session)
        wanted = set(_list(params.get("organizations")))
        if wanted:
            orgs = [o for o in orgs if o.slug in wanted]
        orgs = sorted(orgs, key=lambda o: o.slug)[offset : offset + limit]
        if not all_fields:
            return [o.slug for o in orgs]
        return [organization_dict(o, base, counts.get(o.id, 0)) for o in orgs]


def organization_show(params: dict[str, Any]) -> dict[str, Any]:
    ref = str(params.get("id") or "").strip()
    if not ref:
        raise ActionError("Missing value: id", 409, {"id": ["Missing value"]})
    rt = runtime()
    base = base_url_of(rt.config)
    with rt.db.session() as session:
        org = session.scalar(select(Organisation).where(Organisation.slug == ref))
        if org is None:  # by its id (a UUID), or by the number older answers gave
            org = next(
                (
                    o
                    for o in organisation_service.list_organisations(session)
                    if ref in {organisation_id(o, base), str(o.id)}
                ),
                None,
            )
        if org is None:
            raise ActionError("Not found", 404)
        out = organization_dict(org, base, _package_counts(session).get(org.id, 0))
        if _bool(params, "include_datasets"):
            ids = list(  # as datasets.list_published orders them
                session.scalars(
                    select(Dataset.id)
                    .where(*dataset_service.PUBLISHED, Dataset.organisation_id == org.id)
                    .order_by(Dataset.updated_at.desc())
                    .limit(MAX_ROWS)
                )
            )
            out["packages"] = [package_dict(i) for i in published_by_ids(session, ids, base)]
        return out


def status_show(params: dict[str, Any]) -> dict[str, Any]:
    cfg = runtime().config
    return {
        "site_title": cfg.get("SITE_TITLE") or "cgd-portal",
        "site_description": "Citizen-generated data, anonymised and open.",
        "site_url": base_url_of(cfg),
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "en",
        "extensions": ["cgd-portal", "dcat"],
    }


def current_package_list_with_resources(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Public datasets, most recently modified first, as full package dictionaries."""
    limit = _int(params, "limit", DEFAULT_ROWS, MAX_ROWS)
    offset = _int(params, "offset", 0, 10**7)
    if "page" in params:  # CKAN's older paging: page 1 is the first
        offset = (max(_int(params, "page", 1, 10**6), 1) - 1) * limit
    rt = runtime()
    with rt.db.session() as session:
        _total, items = published_page(session, base_url_of(rt.config), limit=limit, offset=offset)
        return [package_dict(i) for i in items]


def resource_show(params: dict[str, Any]) -> dict[str, Any]:
    """One resource (a download of a public dataset) by the id package dictionaries give it."""
    ref = str(params.get("id") or "").strip()
    if not ref:
        raise ActionError("Missing value: id", 409, {"id": ["Missing value"]})
    dataset_id = ref.split("-", 1)[0]
    rt = runtime()
    with rt.db.session() as session:
        item = _published_or_404(session, dataset_id, base_url_of(rt.config))
        for resource in resource_dicts(item):
            if resource["id"] == ref:
                return resource
    raise ActionError("Not found", 404)


def tag_list(params: dict[str, Any]) -> list[Any]:
    """The tags (topics and keywords) of public datasets; ``query`` keeps those containing it."""
    query = str(params.get("query") or params.get("q") or "").strip().lower()
    with runtime().db.session() as session:
        metas = session.scalars(select(Dataset.metadata_).where(*dataset_service.PUBLISHED))
        tags = sorted({k for meta in metas for k in keywords_of(meta or {})})
    if query:
        tags = [t for t in tags if query in t.lower()]
    if not _bool(params, "all_fields"):
        return tags
    return [
        {"id": t, "name": t, "display_name": (TOPICS.get(t) or {}).get("en", t), "state": "active"}
        for t in tags
    ]


def license_list(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The open licences datasets here may carry, in CKAN's licence shape."""
    return [
        {
            "id": key,
            "title": licence["title"],
            "url": licence["url"],
            "status": "active",
            "od_conformance": "approved",
            "osd_conformance": "not reviewed",
            "domain_content": True,
            "domain_data": True,
            "domain_software": False,
            "is_generic": False,
            "is_okd_compliant": True,
            "is_osi_compliant": False,
        }
        for key, licence in LICENCES.items()
    ]


def site_read(params: dict[str, Any]) -> bool:
    """Whether the site may be read: always (only public datasets are served here)."""
    return True


def group_list(params: dict[str, Any]) -> list[Any]:
    """There are no CKAN groups here (topics are tags): an empty list, not an error."""
    return []


def help_show(params: dict[str, Any]) -> str:
    name = str(params.get("name") or "").strip()
    fn = ACTIONS.get(name)
    if fn is None:
        raise ActionError(f"Action name not known: {name}", 404)
    return (fn.__doc__ or name).strip()


ACTIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "package_search": package_search,
    "package_show": package_show,
    "package_list": package_list,
    "current_package_list_with_resources": current_package_list_with_resources,
    "resource_show": resource_show,
    "tag_list": tag_list,
    "license_list": license_list,
    "group_list": group_list,
    "organization_list": organization_list,
    "organization_show": organization_show,
    "status_show": status_show,
    "site_read": site_read,
    "help_show": help_show,
}


@bp.route("/api/3/action/<name>", methods=["GET", "POST"])
@bp.route("/api/action/<name>", methods=["GET", "POST"])
def action(name: str) -> Response:
    """Run one read action and answer in CKAN's envelope (``success``, ``result``/``error``)."""
    fn = ACTIONS.get(name)
    if fn is None and name in WRITE_ACTIONS:
        return _error(
            name,
            ActionError(
                f"Access denied: {name} is not offered here; datasets are published by "
                "authenticated upload to /api/v1 (see /api/v1/openapi.json)",
                403,
            ),
        )
    if fn is None:  # as CKAN answers a name it does not know
        return _error(name, ActionError(f"Bad request - Action name not known: {name}", 400))
    try:
        return _envelope(name, {"success": True, "result": fn(_params())})
    except CGDError as err:
        return _error(name, err)


@bp.route("/api/3")
@bp.route("/api/3/")
def api_version() -> Response:
    return Response(json.dumps({"version": 3}), mimetype="application/json")
