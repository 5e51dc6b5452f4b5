"""`cgd template` writes an XLSForm that pyxform (as KoboToolbox and ODK do) converts."""

from click.testing import CliRunner
from pyxform.xls2xform import convert

from portal.cli import main


def test_cgd_template_writes_an_xlsform_pyxform_converts_without_warnings(tmp_path):
    path = tmp_path / "cgd_template.xlsx"
    result = CliRunner().invoke(main, ["template", str(path)])
    assert result.exit_code == 0, result.output
    warnings: list[str] = []
    xform = convert(str(path), warnings=warnings).xform
    assert warnings == []
    assert 'lang="English (en)"' in xform and 'lang="Nepali (ne)"' in xform
    assert "महिला" in xform and "पहाडी दलित" in xform
    for question in ("sex", "age", "caste_ethnicity", "district", "wg_seeing", "disability"):
        assert f"/{question}" in xform, question
    assert "sogi" not in xform


def test_cgd_template_can_add_the_sogi_question_and_limit_languages(tmp_path):
    path = tmp_path / "t.xlsx"
    result = CliRunner().invoke(main, ["template", str(path), "--language", "en", "--sogi"])
    assert result.exit_code == 0, result.output
    xform = convert(str(path)).xform
    assert "/sogi" in xform and 'lang="Nepali (ne)"' not in xform


def test_cgd_template_refuses_an_unknown_language(tmp_path):
    result = CliRunner().invoke(main, ["template", str(tmp_path / "t.xlsx"), "--language", "fr"])
    assert result.exit_code != 0 and "fr" in result.output
