"""Operators set how strictly every new version is protected (CGD_DISCLOSURE_*)."""

from __future__ import annotations

import pytest

from catalog.services import datasets
from indexer.pipeline import disclosure_config
from portal.config import load_config
from schema.errors import CGDError
from tests.disclosure.published import upload_survey


def test_the_defaults_are_the_standards_and_the_environment_sets_them(tmp_path):
    config = disclosure_config({})
    assert (config.k_default, config.k_sensitive, config.l) == (5, 10, 2)
    assert (config.place_level, config.date_level) == ("district", "month")
    assert disclosure_config(load_config(env={"CGD_INSTANCE_PATH": str(tmp_path)})) == config
    env = {
        "CGD_INSTANCE_PATH": str(tmp_path),
        "CGD_DISCLOSURE_K": "7",
        "CGD_DISCLOSURE_K_SENSITIVE": "12",
        "CGD_DISCLOSURE_L": "3",
        "CGD_DISCLOSURE_PLACE_LEVEL": "province",
        "CGD_DISCLOSURE_DATE_LEVEL": "year",
    }
    set_up = disclosure_config(load_config(env=env))
    assert (set_up.k_default, set_up.k_sensitive, set_up.l) == (7, 12, 3)
    assert (set_up.place_level, set_up.date_level) == ("province", "year")


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        ({"DISCLOSURE_K": 1}, "CGD_DISCLOSURE_K"),
        ({"DISCLOSURE_K": 8, "DISCLOSURE_K_SENSITIVE": 6}, "CGD_DISCLOSURE_K_SENSITIVE"),
        ({"DISCLOSURE_L": 0}, "CGD_DISCLOSURE_L"),
        ({"DISCLOSURE_PLACE_LEVEL": "ward"}, "CGD_DISCLOSURE_PLACE_LEVEL"),
        ({"DISCLOSURE_DATE_LEVEL": "day"}, "CGD_DISCLOSURE_DATE_LEVEL"),
    ],
)
def test_a_setting_out_of_range_names_its_variable(settings, variable):
    with pytest.raises(CGDError) as err:
        disclosure_config(settings)
    assert err.value.code == "invalid_configuration"
    assert variable in err.value.message


def test_a_setting_that_is_not_a_number_stops_start_up(make_app, tmp_path):
    with pytest.raises(CGDError) as err:
        load_config(env={"CGD_INSTANCE_PATH": str(tmp_path), "CGD_DISCLOSURE_K": "x"})
    assert "CGD_DISCLOSURE_K" in err.value.message
    with pytest.raises(CGDError) as err:
        make_app(DISCLOSURE_K=1)
    assert "CGD_DISCLOSURE_K" in err.value.message


def test_a_stricter_portal_publishes_with_its_own_k_and_place_level(make_app):
    app = make_app(DISCLOSURE_K_SENSITIVE=12, DISCLOSURE_PLACE_LEVEL="province")
    runtime = app.extensions["cgd"]
    up = upload_survey(runtime, rows=400)  # flagged gbv: the sensitive k applies
    assert up["job_status"] == "succeeded", up["job_error"]
    with runtime.db.session() as s:
        report = datasets.get_version(s, up["version_id"]).disclosure_report
    assert report["k_target"] == 12 and report["k"] >= 12
    places = [g for g in report["generalisations"] if g["kind"] == "place"]
    assert places and places[-1]["to"] == "province"
