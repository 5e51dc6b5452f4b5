import io

import jsonschema
import pytest
from frictionless import Schema
from pyxform.xls2xform import convert

from schema.examples import example_metadata
from schema.jsonschema import metadata_json_schema
from schema.roles import ColumnRole, ColumnSpec
from schema.tableschema import table_schema
from schema.xlsform import build_xlsform, xlsform_sheets


def test_json_schema_is_valid_and_accepts_the_example():
    schema = metadata_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(example_metadata(), schema)


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("methodology"),
        lambda d: d["methodology"]["consent"].pop("how_obtained"),
        lambda d: d.update(licence="Proprietary"),
        lambda d: d.update(title={"fr": "Titre"}),
        lambda d: d.update(cube_threshold=2),
        lambda d: d.update(unexpected=1),
    ],
)
def test_json_schema_rejects_what_marshmallow_rejects(breakage):
    doc = example_metadata()
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, metadata_json_schema())


def test_table_schema_is_valid_frictionless_and_leaves_out_identifiers():
    cols = {
        "phone": ColumnSpec("phone", ColumnRole.DIRECT_IDENTIFIER),
        "sex": ColumnSpec("sex", ColumnRole.QUASI_IDENTIFIER, "sex"),
        "age": ColumnSpec("age", ColumnRole.QUASI_IDENTIFIER, "age"),
        "district": ColumnSpec("district", ColumnRole.DIMENSION, "district", label="District"),
        "litres": ColumnSpec("litres", ColumnRole.MEASURE, label="Litres per day"),
        "comment": ColumnSpec("comment", ColumnRole.FREE_TEXT),
    }
    descriptor = table_schema(cols)
    names = [f["name"] for f in descriptor["fields"]]
    assert names == ["sex", "age", "district", "litres", "comment"]
    assert Schema.validate_descriptor(descriptor).valid
    sex = descriptor["fields"][0]
    assert sex["constraints"]["enum"] == ["female", "male", "other"]
    assert sex["cgd:sdmx"] == "SEX"
    assert descriptor["fields"][3]["type"] == "number"


def test_xlsform_template_converts_with_pyxform_in_english_and_nepali():
    buf = io.BytesIO()
    build_xlsform(buf, include_sogi=True)
    warnings: list[str] = []
    result = convert(buf.getvalue(), warnings=warnings, file_type=".xlsx")
    assert "<h:html" in result.xform
    assert 'lang="Nepali (ne)"' in result.xform
    assert warnings == []


def test_xlsform_choices_use_vocabulary_codes():
    sheets = xlsform_sheets()
    districts = [c for c in sheets["choices"] if c["list_name"] == "district"]
    assert len(districts) == 77 and all(c["province"] for c in districts)
    assert {q["name"] for q in sheets["survey"]} >= {
        "sex",
        "age",
        "caste_ethnicity",
        "wg_seeing",
        "wg_communication",
    }


def test_xlsform_can_be_written_to_a_path(tmp_path):
    path = tmp_path / "template.xlsx"
    build_xlsform(path, languages=("en",))
    assert convert(str(path)).xform


def test_a_validated_version_passes_its_own_table_schema_and_a_stray_code_does_not(tmp_path):
    from frictionless import Resource

    from indexer.readers import read_table
    from indexer.validate import validate_table

    cols = {
        "sex": ColumnSpec("sex", ColumnRole.QUASI_IDENTIFIER, "sex"),
        "age": ColumnSpec("age", ColumnRole.QUASI_IDENTIFIER, "age"),
        "district": ColumnSpec("district", ColumnRole.DIMENSION, "district"),
        "wg_seeing": ColumnSpec("wg_seeing", ColumnRole.DIMENSION, "disability_seeing"),
        "litres": ColumnSpec("litres", ColumnRole.MEASURE),
    }
    raw = (
        "sex,age,district,wg_seeing,litres\n"
        'महिला,३४,काठमाडौं,कुनै कठिनाइ छैन,"1,250.5"\n'
        "M,70+,Saptari,A lot of difficulty,\n"
    )
    table = validate_table(read_table(raw.encode(), filename="w.csv"), cols, filename="w.csv")
    table.df.write_csv(tmp_path / "version.csv")
    schema = Schema.from_descriptor(table_schema(cols))
    report = Resource(path="version.csv", basepath=str(tmp_path), schema=schema).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "message"])

    (tmp_path / "stray.csv").write_text("sex,age,district,wg_seeing,litres\nfemale,34,99,no,1\n")
    report = Resource(path="stray.csv", basepath=str(tmp_path), schema=schema).validate()
    assert not report.valid
    assert {e[0] for e in report.flatten(["fieldName"])} == {"district", "wg_seeing"}
