"""The standard is served for tools: metadata JSON Schema and vocabularies."""

import jsonschema

from schema.examples import example_metadata


def test_metadata_json_schema_is_served_and_validates_the_example(make_app):
    client = make_app().test_client()
    resp = client.get("/schema/metadata.json")
    assert resp.status_code == 200
    assert resp.content_type.startswith("application/schema+json")
    schema = resp.get_json(force=True)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(example_metadata(), schema)
    broken = example_metadata()
    broken.pop("methodology")
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken)


def test_vocabularies_are_served_with_nepali_labels_sdmx_and_hxl(make_app):
    client = make_app().test_client()
    dims = {d["code"]: d for d in client.get("/schema/vocabularies.json").get_json()["dimensions"]}
    assert dims["sex"]["sdmx"] == "SEX" and dims["sex"]["hxl"]["attributes"] == ["+sex"]
    assert len(dims["district"]["codes"]) == 77
    female = next(c for c in dims["sex"]["codes"] if c["code"] == "female")
    assert female["labels"] == {"en": "Female", "ne": "महिला"}
