"""The OpenAPI 3 document of /api/v1, and schemathesis against it (bounded: a few examples per operation)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from catalog.models import Role, User
from catalog.partnership_models import QualityItem
from catalog.principal import SCOPES, system
from catalog.services import datasets as dataset_service
from catalog.services import organisations
from catalog.services import partnerships as partnership_service
from catalog.services import reviews as review_service
from tests.accounts.world import World, bearer

ALL_SCOPES = list(SCOPES)
EXAMPLES = 4
# Server errors, documented status codes and content types, responses matching their schemas,
# and invalid requests refused. (Not "every schema-valid request accepted": dataset metadata has
# cross-field rules of the CGD standard that JSON Schema cannot say.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def test_the_document_is_valid_openapi_3_built_from_the_marshmallow_schemas(make_app):
    app = make_app()
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    schemas = doc["components"]["schemas"]
    assert {"DatasetCreate", "Dataset", "Version", "Job", "Upload", "Error", "Problem"} <= set(
        schemas
    )
    assert set(schemas["Problem"]["properties"]) >= {"code", "message", "row", "column", "field"}
    assert schemas["DatasetCreate"]["required"] == ["metadata", "organisation"] or set(
        schemas["DatasetCreate"]["required"]
    ) == {"metadata", "organisation"}
    ops = [(path, method) for path, item in doc["paths"].items() for method in item]
    assert ("/datasets/{ref}/versions", "post") in ops and (
        "/versions/{version_id}/publish",
        "post",
    ) in ops
    assert doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"][
        "scopes"
    ].keys() == set(SCOPES)
    # Partnerships, reviews and endorsements: each write names its scope and its errors.
    assert {"Partnership", "Review", "Endorsement", "DatasetEndorsements"} <= set(schemas)
    for path, method, scope in (
        ("/partnerships", "post", "org:admin"),
        ("/partnerships/{partnership_id}/accept", "post", "org:admin"),
        ("/versions/{version_id}/reviews", "post", "endorsements:write"),
        ("/reviews/{review_id}/findings", "put", "endorsements:write"),
        ("/reviews/{review_id}/submit", "post", "endorsements:write"),
        ("/endorsements/{endorsement_id}/revoke", "post", "endorsements:write"),
    ):
        op = doc["paths"][path][method]
        assert {"oauth2": [scope]} in op["security"], path
        assert {"400", "401", "403", "404", "409"} <= set(op["responses"]), path
    assert "security" not in doc["paths"]["/datasets/{ref}/endorsements"]["get"]


@pytest.fixture
def api_world(make_app):
    app = make_app(UPLOAD_CHUNK_BYTES=64 * 1024, MAX_UPLOAD_BYTES=1024 * 1024)
    world = World(app.extensions["cgd"])
    world.app = app
    world.add_org("samata")
    world.add_user("ada", org="samata", role="admin")
    ids = world.dataset("samata", "Fuzzed survey")
    partners = _partnership_with_an_endorsement(world, ids["version"])
    world.token_value = world.token("ada", ALL_SCOPES, ["samata", "cbs"])
    upload = (
        app.test_client()
        .post(
            f"/api/v1/datasets/{ids['dataset']}/uploads",
            headers=bearer(world.token_value),
            json={"filename": "survey.csv", "size": 100},
        )
        .get_json()
    )
    # Real objects to aim generated requests at, beside random ids.
    world.real = {
        "ref": ids["dataset"],
        "version_id": ids["version"],
        "job_id": ids["job"],
        "upload_id": upload["id"],
        "slug": "samata",
        **partners,
    }
    return world


def _partnership_with_an_endorsement(world, version_id: str) -> dict[str, str]:
    """The version published; a verified government body ("cbs", where ada is an admin too) in
    partnership with samata has reviewed and endorsed it. Made by the system, as an operator would."""
    root = system("test")
    with world.runtime.db.session() as s:
        version = dataset_service.get_version(s, version_id)
        dataset_service.request_publish(s, root, version, approve_free_text=True)
    with world.runtime.db.session() as s:
        assert dataset_service.get_version(s, version_id).status == "published"
        cbs = organisations.create_organisation(
            s, root, slug="cbs", name="Central Bureau of Statistics", kind="government"
        )
        world.orgs["cbs"] = cbs.id
        partnership_service.verify_organisation(s, root, cbs, government_type="nso")
        organisations.set_membership(
            s, root, cbs, s.get(User, world.users["ada"]), Role.ADMIN.value
        )
        partnership = partnership_service.create_partnership(
            s,
            root,
            title="Water monitoring",
            parties=[
                partnership_service.PartySpec("samata", None),
                partnership_service.PartySpec("cbs", None),
            ],
        )
        version = dataset_service.get_version(s, version_id)
        review = review_service.start_review(s, root, version, organisation_slug="cbs")
        review_service.record_findings(
            s, root, review, {item.value: {"rating": "meets"} for item in QualityItem}
        )
        review_service.submit_review(s, root, review, decision="endorse", statement="Fit.")
        (endorsement,) = review_service.endorsements_for(s, version.dataset, version=version)
        return {
            "partnership_id": partnership.id,
            "review_id": review.id,
            "endorsement_id": endorsement.id,
        }


def _fuzz(
    operation, mode, aim_at_real: bool, world, headers: dict, failures: list, answered: dict
) -> None:
    """A few generated requests against one operation, each response checked."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        if aim_at_real and case.path_parameters:
            case.path_parameters = {
                k: world.real.get(k, v) for k, v in case.path_parameters.items()
            }
        if aim_at_real and isinstance(case.body, dict) and "organisation" in case.body:
            case.body["organisation"] = "samata"
        response = case.call(headers=headers)
        answered.setdefault(f"{operation.method.upper()} {operation.path}", set()).add(
            response.status_code
        )
        if response.status_code >= 400:
            error = response.json().get("error") or {}
            if not (error.get("code") and error.get("message")):
                failures.append(
                    f"{case.method} {case.formatted_path}: no error code: {response.text[:200]}"
                )
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as err:  # noqa: BLE001 - schemathesis groups its check failures
            failures.append(f"{case.method} {case.formatted_path} [{mode.value}]: {str(err)[:600]}")

    try:
        run()
    except Unsatisfiable:
        # No negative case exists for an operation without inputs (GET /me).
        assert mode is GenerationMode.NEGATIVE, operation.path


def test_no_operation_answers_with_a_server_error(api_world):
    """Every operation, positive and negative generated requests, at random and at real objects."""
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_world.app)
    headers = {**bearer(api_world.token_value), "Accept-Encoding": "identity"}
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    for result in api.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for aim_at_real in (False, True):
                _fuzz(operation, mode, aim_at_real, api_world, headers, failures, answered)
    assert len(answered) >= 28, "\n".join(sorted(answered))
    assert not failures, "\n\n".join(sorted(set(failures))[:10])
    # The generated requests reached real objects, not only 404s.
    assert 200 in answered["GET /versions/{version_id}/anonymisation-report"]
    assert 200 in answered["GET /jobs/{job_id}"]
    for route in (
        "GET /partnerships/{partnership_id}",
        "GET /reviews/{review_id}",
        "GET /datasets/{ref}/endorsements",
        "GET /organisations/{slug}/partnerships",
        "GET /quality-checklist",
    ):
        assert 200 in answered[route], (route, answered[route])


def test_the_committed_document_is_up_to_date():
    from api.rest.openapi import COMMITTED, render

    assert COMMITTED.read_text(encoding="utf-8") == render(), (
        "api/rest/openapi.json is out of date: run `.venv/bin/python -m api.rest.openapi` and commit it"
    )
