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


@lru_cache(maxsize=4)
def openapi_document(base_url: str = "") -> dict[str, Any]:
    spec = APISpec(
        title="cgd-portal upload API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Create datasets, upload versions, follow jobs, read reports, publish and withdraw. "
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
    for name in (
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
    ):
        shown = (
            schemas.DatasetCreateDocumentSchema
            if name == "DatasetCreate"
            else getattr(schemas, f"{name}Schema")
        )
        spec.components.schema(name, schema=shown)

    ref = {
        "in": "path",
        "name": "ref",
        "required": True,
        "schema": {"type": "string"},
        "description": "Dataset id or slug.",
    }
    version_id = _path_param("version_id", "Version id.")
    job_id = _path_param("job_id", "Job id.")
    upload_id = _path_param("upload_id", "Upload id.")
    write = "datasets:write"
    read = "datasets:read-private"

    spec.path(
        "/me",
        operations={
            "get": _op(
                "Who the token acts as", "200", "Me", errors=("401", "429"), scope=None, public=True
            )
        },
    )
    spec.path(
        "/datasets",
        operations={
            "post": _op(
                "Create a dataset",
                "201",
                "Dataset",
                errors=("400", "401", "403", "404", "409", "429"),
                scope=write,
                body={"required": True, **_json("DatasetCreate")},
            )
        },
    )
    spec.path(
        "/datasets/{ref}",
        operations={
            "get": _op(
                "Read a dataset",
                "200",
                "Dataset",
                errors=("401", "404", "429"),
                scope=read,
                params=[ref],
                public=True,
            )
        },
    )
    spec.path(
        "/datasets/{ref}/versions",
        operations={
            "post": _op(
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
        },
    )
    spec.path(
        "/datasets/{ref}/uploads",
        operations={
            "post": _op(
                "Start a resumable upload",
                "201",
                "Upload",
                errors=("400", "401", "403", "404", "413", "429"),
                scope=write,
                params=[ref],
                body={"required": True, **_json("UploadCreate")},
            )
        },
    )
    content_range = {
        "in": "header",
        "name": "Content-Range",
        "required": False,
        "schema": {"type": "string", "pattern": r"^bytes \d+-\d+/\d+$"},
        "description": "bytes START-END/TOTAL; START must equal the bytes received so far.",
    }
    spec.path(
        "/uploads/{upload_id}",
        operations={
            "get": _op(
                "Resumable upload status",
                "200",
                "Upload",
                errors=("401", "403", "404", "429"),
                scope=write,
                params=[upload_id],
            ),
            "put": _op(
                "Append a chunk",
                "200",
                "Upload",
                errors=("400", "401", "403", "404", "409", "413", "429"),
                scope=write,
                params=[upload_id, content_range],
                body={
                    "required": True,
                    "content": {
                        "application/octet-stream": {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    },
                },
            ),
        },
    )
    spec.path(
        "/uploads/{upload_id}/complete",
        operations={
            "post": _op(
                "Finish a resumable upload",
                "202",
                "UploadAccepted",
                errors=("400", "401", "403", "404", "409", "429"),
                scope=write,
                params=[upload_id],
            )
        },
    )
    spec.path(
        "/jobs/{job_id}",
        operations={
            "get": _op(
                "Job status",
                "200",
                "Job",
                errors=("401", "403", "404", "429"),
                scope=read,
                params=[job_id],
            )
        },
    )
    spec.path(
        "/versions/{version_id}",
        operations={
            "get": _op(
                "Version state",
                "200",
                "Version",
                errors=("401", "403", "404", "429"),
                scope=read,
                params=[version_id],
            )
        },
    )
    for suffix, summary in (
        ("validation-report", "Validation report"),
        ("anonymisation-report", "Anonymisation report"),
    ):
        spec.path(
            f"/versions/{{version_id}}/{suffix}",
            operations={
                "get": _op(
                    summary,
                    "200",
                    "Report",
                    errors=("401", "403", "404", "429"),
                    scope=read,
                    params=[version_id],
                )
            },
        )
    spec.path(
        "/versions/{version_id}/publish",
        operations={
            "post": _op(
                "Approve and publish",
                "202",
                "Job",
                errors=("400", "401", "403", "404", "409", "429"),
                scope="datasets:publish",
                params=[version_id],
                body={"required": False, **_json("Publish")},
            )
        },
    )
    spec.path(
        "/versions/{version_id}/withdraw",
        operations={
            "post": _op(
                "Withdraw a version",
                "202",
                "Job",
                errors=("401", "403", "404", "409", "429"),
                scope="datasets:publish",
                params=[version_id],
            )
        },
    )
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
