"""The CKAN action API read subset, driven by the real ``ckanapi`` client over HTTP."""

from __future__ import annotations

import json

import ckanapi
import pytest
import requests


@pytest.fixture(params=[False, True], ids=["post-json", "get-only"])
def ckan(catalogue, request):
    """ckanapi POSTs JSON by default; ckanext-harvest's harvester (and get_only) use GET."""
    with ckanapi.RemoteCKAN(catalogue.url, get_only=request.param) as client:
        yield client


def test_status_show_and_package_list(ckan, catalogue):
    status = ckan.action.status_show()
    assert status["site_url"] == catalogue.url and status["ckan_version"].startswith("2.")
    names = ckan.action.package_list()
    assert sorted(names) == sorted(p["slug"] for p in catalogue.published.values())


def test_package_search_full_text_filters_and_facets(ckan, catalogue):
    everything = ckan.action.package_search(
        rows=0, **{"facet.field": '["organization", "tags", "res_format", "license_id"]'}
    )
    assert everything["count"] == 3 and everything["results"] == []
    assert everything["facets"]["organization"] == {"samata": 2, "janajati-forum": 1}
    assert (
        everything["facets"]["tags"]["water"] == 2 and everything["facets"]["tags"]["health"] == 1
    )
    assert everything["facets"]["res_format"] == {
        "CSV": 3,
        "JSON": 3,
        "ZIP": 3,
    }  # datasets, not resources
    items = {i["name"]: i for i in everything["search_facets"]["organization"]["items"]}
    assert items["samata"] == {"name": "samata", "display_name": "Samata Collective", "count": 2}

    health = ckan.action.package_search(q="health posts")
    assert [p["name"] for p in health["results"]] == ["health-posts-survey"]

    assert ckan.action.package_search(fq="organization:janajati-forum")["count"] == 1
    assert ckan.action.package_search(fq="tags:water")["count"] == 2
    assert ckan.action.package_search(fq="organization:samata tags:water")["count"] == 1
    assert ckan.action.package_search(fq="-organization:samata")["count"] == 1
    assert ckan.action.package_search(fq="+organization:samata")["count"] == 2
    assert (
        ckan.action.package_search(fq="metadata_modified:[2000-01-01T00:00:00Z TO *]")["count"] == 3
    )
    assert (
        ckan.action.package_search(fq="metadata_modified:[2999-01-01T00:00:00Z TO *]")["count"] == 0
    )
    assert ckan.action.package_search(fq="groups:anything")["count"] == 0


def test_package_search_pages_with_rows_and_start_in_a_stable_order(ckan):
    seen = []
    for start in range(0, 4, 2):
        page = ckan.action.package_search(rows=2, start=start, sort="id asc")
        assert page["count"] == 3
        seen += [p["id"] for p in page["results"]]
    assert len(seen) == 3 and seen == sorted(seen)


def test_package_show_by_name_or_id_in_ckan_shape(ckan, catalogue):
    water = catalogue.published["water"]
    pkg = ckan.action.package_show(id=water["slug"])
    assert ckan.action.package_show(id=water["dataset"]) == pkg
    assert pkg["id"] == water["dataset"] and pkg["name"] == water["slug"]
    assert pkg["organization"]["name"] == "samata" and pkg["owner_org"] == pkg["organization"]["id"]
    assert pkg["license_id"] == "CC-BY-4.0" and pkg["state"] == "active" and pkg["private"] is False
    assert {t["name"] for t in pkg["tags"]} >= {"water", "sanitation"}
    formats = {r["format"]: r["url"] for r in pkg["resources"]}
    assert formats["CSV"] == f"{catalogue.url}/datasets/{water['slug']}/download.csv"
    assert requests.get(formats["CSV"], timeout=10).status_code == 200
    assert pkg["num_resources"] == len(pkg["resources"]) == 4


def test_organizations(ckan):
    assert ckan.action.organization_list() == ["janajati-forum", "samata"]
    full = ckan.action.organization_list(all_fields=True)
    assert [(o["name"], o["package_count"]) for o in full] == [("janajati-forum", 1), ("samata", 2)]
    org = ckan.action.organization_show(id="samata", include_datasets=True)
    assert org["title"] == "Samata Collective" and org["is_organization"] is True
    assert sorted(p["name"] for p in org["packages"]) == sorted(
        [
            "health-posts-survey",
            next(n for n in ckan.action.package_list() if n.startswith("access-to-water")),
        ]
    )


def test_the_other_read_actions_clients_call(ckan, catalogue):
    recent = ckan.action.current_package_list_with_resources(limit=2)
    assert len(recent) == 2 and all(p["resources"] for p in recent)
    assert [p["metadata_modified"] for p in recent] == sorted(
        (p["metadata_modified"] for p in recent), reverse=True
    )
    rest = ckan.action.current_package_list_with_resources(limit=2, offset=2)
    assert len(rest) == 1 and rest[0]["id"] not in {p["id"] for p in recent}
    resource = recent[0]["resources"][0]
    assert ckan.action.resource_show(id=resource["id"]) == resource
    with pytest.raises(ckanapi.NotFound):
        ckan.action.resource_show(id=f"{recent[0]['id']}-no-such-download")
    tags = ckan.action.tag_list()
    assert {"water", "health", "indigenous-peoples"} <= set(tags) and tags == sorted(tags)
    assert ckan.action.tag_list(query="wat") == ["water"]
    assert ckan.action.tag_list(all_fields=True, query="water")[0]["name"] == "water"
    licences = {lic["id"]: lic for lic in ckan.action.license_list()}
    assert licences["CC-BY-4.0"]["url"].startswith("https://creativecommons.org/")
    assert ckan.action.group_list() == []
    assert "topics and keywords" in ckan.action.help_show(name="tag_list")  # its docstring
    with pytest.raises(ckanapi.NotFound):
        ckan.action.help_show(name="no_such_action")


def test_errors_come_back_as_ckanapi_exceptions(ckan):
    with pytest.raises(ckanapi.NotFound):
        ckan.action.package_show(id="no-such-dataset")
    with pytest.raises(ckanapi.NotFound):
        ckan.action.organization_show(id="no-such-org")
    with pytest.raises(ckanapi.ValidationError) as err:
        ckan.action.package_search(rows=-1)
    assert "rows" in err.value.error_dict
    # As CKAN caps rows at ckan.search.rows_max (1000) instead of refusing more.
    assert ckan.action.package_search(rows=5000)["count"] == 3
    # What Solr cannot run is CKAN's Search Query Error (HTTP 400).
    with pytest.raises(ckanapi.SearchQueryError, match="colour"):
        ckan.action.package_search(fq="colour:blue")
    with pytest.raises(ckanapi.SearchQueryError, match="sort"):
        ckan.action.package_search(sort="colour asc")
    with pytest.raises(ckanapi.SearchQueryError, match="date"):
        ckan.action.package_search(fq="metadata_modified:[NOW-1FORTNIGHT TO *]")
    # A write action CKAN has is refused as not authorised, not as unknown.
    with pytest.raises(ckanapi.NotAuthorized):
        ckan.action.package_create(name="nope")


def test_an_action_ckan_does_not_know_is_a_bad_request(catalogue):
    answer = requests.get(f"{catalogue.url}/api/3/action/no_such_action", timeout=10)
    assert answer.status_code == 400
    assert answer.json()["success"] is False
    assert answer.json()["error"] == {
        "__type": "Bad Request",
        "message": "Bad request - Action name not known: no_such_action",
    }


def test_site_read(ckan):
    assert ckan.action.site_read() is True


def test_sorts_clients_offer(ckan):
    def names(sort):
        return [p["name"] for p in ckan.action.package_search(sort=sort, rows=10)["results"]]

    by_title = names("title_string asc")
    assert names("title_string desc") == list(reversed(by_title))
    created = ckan.action.package_search(sort="metadata_created desc")["results"]
    stamps = [p["metadata_created"] for p in created]
    assert stamps == sorted(stamps, reverse=True)
    assert names("metadata_created asc") == list(reversed([p["name"] for p in created]))


def test_facet_mincount_drops_rare_values(ckan):
    counts = ckan.action.package_search(
        rows=0, **{"facet.field": '["organization"]', "facet.mincount": 2}
    )
    assert counts["facets"]["organization"] == {"samata": 2}
    assert [i["name"] for i in counts["search_facets"]["organization"]["items"]] == ["samata"]


def test_fq_groups_date_math_and_more_fields(ckan):
    def count(fq):
        return ckan.action.package_search(fq=fq)["count"]

    assert count("organization:(samata OR janajati-forum)") == 3
    assert count("tags:(water OR health)") == 3
    assert count("tags:(water AND sanitation)") == count("tags:water tags:sanitation")
    assert count("-organization:(samata OR janajati-forum)") == 0
    assert count("metadata_modified:[NOW-1DAY TO NOW]") == 3
    assert count("metadata_modified:[NOW/DAY-1YEAR TO NOW+1HOUR]") == 3
    assert count("metadata_created:[* TO NOW-10YEARS]") == 0
    assert count("metadata_modified:[2000-01-01T00:00:00Z+6MONTHS TO *]") == 3
    assert count("private:false") == 3 and count("private:true") == 0
    assert count("num_resources:[1 TO *]") == 3 and count("num_resources:[100 TO *]") == 0
    assert count("title:janajati") == 1 and count('title:"water points"') == 1
    assert count("extras_source:local") == 3


def test_field_clauses_in_q_filter_as_solr_does(ckan, catalogue):
    health = ckan.action.package_search(q="title:health")
    assert [p["name"] for p in health["results"]] == ["health-posts-survey"]
    assert (
        ckan.action.package_search(q=f"name:{catalogue.published['other']['slug']}")["count"] == 1
    )
    assert ckan.action.package_search(q="organization:samata health posts")["count"] == 1
    assert ckan.action.package_search(q="organization:janajati-forum health posts")["count"] == 0
    assert ckan.action.package_search(q="water AND organization:janajati-forum")["count"] == 1


def test_organisation_ids_are_uuids_that_name_the_organisation(ckan, catalogue):
    import uuid

    orgs = {o["name"]: o for o in ckan.action.organization_list(all_fields=True)}
    samata = orgs["samata"]
    assert uuid.UUID(samata["id"]).version == 5 and samata["id"] != orgs["janajati-forum"]["id"]
    assert ckan.action.organization_show(id=samata["id"])["name"] == "samata"
    pkg = ckan.action.package_show(id=catalogue.published["health"]["slug"])
    assert pkg["owner_org"] == pkg["organization"]["id"] == samata["id"]
    assert ckan.action.package_search(fq=f"owner_org:{samata['id']}")["count"] == 2


def test_envelope_over_plain_http(catalogue):
    body = requests.get(
        f"{catalogue.url}/api/3/action/package_search", params={"rows": 1}, timeout=10
    ).json()
    assert body["success"] is True and body["help"].endswith("name=package_search")
    assert body["result"]["count"] == 3 and len(body["result"]["results"]) == 1
    missing = requests.get(
        f"{catalogue.url}/api/3/action/package_show", params={"id": "x"}, timeout=10
    )
    assert missing.status_code == 404
    assert (
        missing.json()["success"] is False
        and missing.json()["error"]["__type"] == "Not Found Error"
    )


def test_or_between_clauses_as_ckanext_harvest_sends_organisation_filters(ckan):
    assert (
        ckan.action.package_search(fq="organization:samata OR organization:janajati-forum")["count"]
        == 3
    )
    assert ckan.action.package_search(fq="tags:health OR organization:janajati-forum")["count"] == 2
    assert (
        ckan.action.package_search(fq="organization:samata organization:janajati-forum")["count"]
        == 0
    )
    since = "metadata_modified:[2000-01-01T00:00:00.000000Z TO *] -groups:none"
    assert (
        ckan.action.package_search(fq=f"organization:samata OR organization:x {since}")["count"]
        == 2
    )


def test_the_ckan_harvester_gather_loop_sees_every_dataset_once(catalogue):
    """ckanext-harvest's gather: GET package_search, rows/start, sort=id asc, until an empty page."""
    url = f"{catalogue.url}/api/3/action/package_search"
    params = {
        "rows": "2",
        "start": "0",
        "include_private": "true",
        "sort": "id asc",
        "fq": "-organization:nobody",
    }
    seen, previous = [], None
    while True:
        content = requests.get(url, params=params, timeout=10).text
        assert content != previous  # the harvester gives up when paging repeats itself
        previous = content
        page = json.loads(content)["result"]["results"]
        if not page:
            break
        seen += [p["id"] for p in page]
        params["start"] = str(int(params["start"]) + int(params["rows"]))
    assert sorted(seen) == seen and len(set(seen)) == 3
