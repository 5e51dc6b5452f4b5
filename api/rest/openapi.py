"""The OpenAPI 3 document of /api/v1, generated with apispec from the marshmallow schemas."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from api.rest import schemas
from catalog.principal import SCOPES

COMPONENTS = (
    "Problem",
    "ErrorBody",
    "Error",
    "DatasetCreate",
    "VersionSummary",
    "Dataset",
    "Version",
    "Job",
    "UploadAccepted",
    "UploadCreate",
    "Upload",
    "Publish",
    "Report",
    "Me",
    "VersionUploadForm",
    # partnerships, quality reviews and endorsements
    "OrganisationRef",
    "Party",
    "Partnership",
    "OrganisationPartnerships",
    "VerifiedOrganisation",
    "ChecklistItem",
    "Checklist",
    "ReviewFinding",
    "Review",
    "SubmittedReview",
    "VersionReviews",
    "Endorsement",
    "DatasetEndorsements",
    "PartyInput",
    "PartnershipCreate",
    "Accept",
    "PartnershipStatus",
    "Verification",
    "StartReview",
    "Finding",
    "Findings",
    "Submit",
    "Revoke",
)

_ERRORS = {
    "400": "The request or the data breaks the rules; see error.problems.",
    "401": "No token, or the token is unknown, expired or revoked.",
    "403": "The token lacks the scope, organisation or role.",
    "404": "Not found (or not visible to this token).",
    "409": "The object is not in a state that allows this.",
    "413": "Too large.",
    "429": "Rate limit reached.",
}


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    ok: str,
    ok_schema: str | None,
    *,
    errors: tuple[str, ...],
    scope: str | None,
    body: dict | None = None,
    params: list | None = None,
    public: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {}}
    op["responses"][ok] = {"description": "OK", **(_json(ok_schema) if ok_schema else {})}
    for code in errors:
        op["responses"][code] = {"description": _ERRORS[code], **_json("Error")}
    if body:
        op["requestBody"] = body
    if params:
        op["parameters"] = params
    if not public:
        op["security"] = [{"bearer": []}, {"oauth2": [scope] if scope else []}]
    return op


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "in": "path",
        "name": name,
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


def _json_body(schema: str) -> dict[str, Any]:
    return {"required": True, **_json(schema)}


def _partnership_routes(route, version_id: dict, ref: dict) -> None:
    """api/rest/partnerships.py: reading is public; writing needs a token acting for a party."""
    slug = _path_param("slug", "Organisation slug.")
    partnership_id = _path_param("partnership_id", "Partnership id.")
    review_id = _path_param("review_id", "Review id.")
    endorsement_id = _path_param("endorsement_id", "Endorsement id.")
    public = ("401", "404", "429")
    # Every write: a body that breaks the rules, no or a weak token, an unknown object or
    # organisation, or an object in the wrong state (a submitted review, an ended partnership).
    change = ("400", "401", "403", "404", "409", "429")
    admin, endorse = "org:admin", "endorsements:write"

    route(
        "get",
        "/quality-checklist",
        "The quality checklist and its ratings",
        "200",
        "Checklist",
        errors=("401", "429"),
        scope=None,
        public=True,
    )
    route(
        "get",
        "/organisations/{slug}/partnerships",
        "An organisation's partnerships",
        "200",
        "OrganisationPartnerships",
        errors=("400", *public),
        scope=None,
        params=[slug, {"in": "query", "schema": schemas.IncludeEndedSchema}],
        public=True,
    )
    route(
        "post",
        "/organisations/{slug}/verification",
        "Verify an organisation (site administrators)",
        "200",
        "VerifiedOrganisation",
        errors=change,
        scope=admin,
        params=[slug],
        body=_json_body("Verification"),
    )
    route(
        "post",
        "/partnerships",
        "Propose a partnership",
        "201",
        "Partnership",
        errors=change,
        scope=admin,
        body=_json_body("PartnershipCreate"),
    )
    route(
        "get",
        "/partnerships/{partnership_id}",
        "Read a partnership",
        "200",
        "Partnership",
        errors=public,
        scope=None,
        params=[partnership_id],
        public=True,
    )
    for suffix, summary, body in (
        ("accept", "Accept a partnership for a party", "Accept"),
        ("status", "Suspend, resume or end a partnership", "PartnershipStatus"),
    ):
        route(
            "post",
            f"/partnerships/{{partnership_id}}/{suffix}",
            summary,
            "200",
            "Partnership",
            errors=change,
            scope=admin,
            params=[partnership_id],
            body=_json_body(body),
        )
    route(
        "get",
        "/datasets/{ref}/endorsements",
        "The badge: endorsements and partnerships of a dataset",
        "200",
        "DatasetEndorsements",
        errors=public,
        scope=None,
        params=[ref],
        public=True,
    )
    route(
        "get",
        "/versions/{version_id}/reviews",
        "Submitted reviews of a version (and your drafts)",
        "200",
        "VersionReviews",
        errors=public,
        scope=None,
        params=[version_id],
        public=True,
    )
    route(
        "post",
        "/versions/{version_id}/reviews",
        "Start a quality review",
        "201",
        "Review",
        errors=change,
        scope=endorse,
        params=[version_id],
        body={"required": False, **_json("StartReview")},
    )
    route(
        "get",
        "/reviews/{review_id}",
        "Read a review",
        "200",
        "Review",
        errors=public,
        scope=None,
        params=[review_id],
        public=True,
    )
    route(
        "put",
        "/reviews/{review_id}/findings",
        "Record findings of a draft review",
        "200",
        "Review",
        errors=change,
        scope=endorse,
        params=[review_id],
        body=_json_body("Findings"),
    )
    route(
        "post",
        "/reviews/{review_id}/submit",
        "Endorse or request changes",
        "200",
        "SubmittedReview",
        errors=change,
        scope=endorse,
        params=[review_id],
        body=_json_body("Submit"),
    )
    route(
        "post",
        "/endorsements/{endorsement_id}/revoke",
        "Revoke an endorsement",
        "200",
        "Endorsement",
        errors=change,
        scope=endorse,
        params=[endorsement_id],
        body=_json_body("Revoke"),
    )


@lru_cache(maxsize=4)
def openapi_document(base_url: str = "") -> dict[str, Any]:
    spec = APISpec(
        title="cgd-portal upload API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Create datasets, upload versions, follow jobs, read reports, publish and withdraw; "
            "partnerships, quality reviews and endorsements. "
            "Authenticate with a personal access token or an OAuth2 token (Bearer)."
        },
        servers=[{"url": base_url.rstrip("/") + "/api/v1"}] if base_url else [{"url": "/api/v1"}],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme(
        "oauth2",
        {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": "/oauth/authorize",
                    "tokenUrl": "/oauth/token",
                    "refreshUrl": "/oauth/token",
                    "scopes": {s: s for s in SCOPES},
                },
                "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {s: s for s in SCOPES}},
            },
        },
    )
    for name in COMPONENTS:
        shown = (
            schemas.DatasetCreateDocumentSchema
            if name == "DatasetCreate"
            else getattr(schemas, f"{name}Schema")
        )
        spec.components.schema(name, schema=shown)

    def route(method: str, path: str, *args, **kwargs) -> None:
        spec.path(path, operations={method: _op(*args, **kwargs)})

    ref = _path_param("ref", "Dataset id or slug.")
    version_id = _path_param("version_id", "Version id.")
    job_id = _path_param("job_id", "Job id.")
    upload_id = _path_param("upload_id", "Upload id.")
    write = "datasets:write"
    read = "datasets:read-private"
    private = ("401", "403", "404", "429")  # reading what only its organisation may see
    public = ("401", "404", "429")  # reading what anyone may see (a bad token is still a 401)

    route(
        "get",
        "/me",
        "Who the token acts as",
        "200",
        "Me",
        errors=("401", "429"),
        scope=None,
        public=True,
    )
    route(
        "post",
        "/datasets",
        "Create a dataset",
        "201",
        "Dataset",
        errors=("400", "401", "403", "404", "409", "429"),
        scope=write,
        body=_json_body("DatasetCreate"),
    )
    route(
        "get",
        "/datasets/{ref}",
        "Read a dataset",
        "200",
        "Dataset",
        errors=public,
        scope=read,
        params=[ref],
        public=True,
    )
    route(
        "post",
        "/datasets/{ref}/versions",
        "Upload a version (multipart)",
        "202",
        "UploadAccepted",
        errors=("400", "401", "403", "404", "413", "429"),
        scope=write,
        params=[ref],
        body={
            "required": True,
            "content": {"multipart/form-data": {"schema": "VersionUploadForm"}},
        },
    )
    route(
        "post",
        "/datasets/{ref}/uploads",
        "Start a resumable upload",
        "201",
        "Upload",
        errors=("400", "401", "403", "404", "413", "429"),
        scope=write,
        params=[ref],
        body=_json_body("UploadCreate"),
    )
    content_range = {
        "in": "header",
        "name": "Content-Range",
        "required": False,
        "schema": {"type": "string", "pattern": r"^bytes \d+-\d+/\d+$"},
        "description": "bytes START-END/TOTAL; START must equal the bytes received so far.",
    }
    route(
        "get",
        "/uploads/{upload_id}",
        "Resumable upload status",
        "200",
        "Upload",
        errors=private,
        scope=write,
        params=[upload_id],
    )
    route(
        "put",
        "/uploads/{upload_id}",
        "Append a chunk",
        "200",
        "Upload",
        errors=("400", "401", "403", "404", "409", "413", "429"),
        scope=write,
        params=[upload_id, content_range],
        body={
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        },
    )
    route(
        "post",
        "/uploads/{upload_id}/complete",
        "Finish a resumable upload",
        "202",
        "UploadAccepted",
        errors=("400", "401", "403", "404", "409", "429"),
        scope=write,
        params=[upload_id],
    )
    route(
        "get",
        "/jobs/{job_id}",
        "Job status",
        "200",
        "Job",
        errors=private,
        scope=read,
        params=[job_id],
    )
    route(
        "get",
        "/versions/{version_id}",
        "Version state",
        "200",
        "Version",
        errors=private,
        scope=read,
        params=[version_id],
    )
    for suffix, summary in (
        ("validation-report", "Validation report"),
        ("anonymisation-report", "Anonymisation report"),
    ):
        route(
            "get",
            f"/versions/{{version_id}}/{suffix}",
            summary,
            "200",
            "Report",
            errors=private,
            scope=read,
            params=[version_id],
        )
    route(
        "post",
        "/versions/{version_id}/publish",
        "Approve and publish",
        "202",
        "Job",
        errors=("400", "401", "403", "404", "409", "429"),
        scope="datasets:publish",
        params=[version_id],
        body={"required": False, **_json("Publish")},
    )
    route(
        "post",
        "/versions/{version_id}/withdraw",
        "Withdraw a version",
        "202",
        "Job",
        errors=("401", "403", "404", "409", "429"),
        scope="datasets:publish",
        params=[version_id],
    )
    _partnership_routes(route, version_id, ref)
    spec.path(
        "/openapi.json",
        operations={
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3 document",
                        "content": {"application/json": {}},
                    }
                },
            }
        },
    )
    return spec.to_dict()


COMMITTED = Path(__file__).with_name("openapi.json")


def render() -> str:
    """The document as committed beside this module (a test fails when it is out of date)."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    COMMITTED.write_text(render(), encoding="utf-8")
    print(f"wrote {COMMITTED}")
