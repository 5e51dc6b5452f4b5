"""DCAT-AP (3.0) descriptions of the catalogue and of each dataset, with rdflib.

The catalogue is paged the way ckanext-dcat pages it (a ``hydra:PagedCollection``
node with total, page size and first/last/next/previous page links), which
DCAT harvesters such as ckanext-dcat and data.europa.eu's follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from api.federation.published import PublishedDataset
from schema.topics import TOPICS

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
# DCAT 3 terms rdflib's closed DCAT namespace does not know yet (dcat:version).
DCAT_NS = Namespace(str(DCAT))
ADMS = Namespace("http://www.w3.org/ns/adms#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
PROV = Namespace("http://www.w3.org/ns/prov#")
EU = "http://publications.europa.eu/resource/authority/"
DATA_THEME = Namespace(EU + "data-theme/")
FILE_TYPE = Namespace(EU + "file-type/")
LANGUAGE = Namespace(EU + "language/")
COUNTRY = Namespace(EU + "country/")
IANA = "http://www.iana.org/assignments/media-types/"

PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "vcard": VCARD,
    "hydra": HYDRA,
    "adms": ADMS,
    "locn": LOCN,
    "skos": SKOS,
    "prov": PROV,
    "rdfs": RDFS,
    "xsd": XSD,
}

#: Our topics on the EU data-theme vocabulary that DCAT-AP requires for dcat:theme.
TOPIC_THEMES = {
    "water": "ENVI",
    "sanitation": "HEAL",
    "health": "HEAL",
    "nutrition": "AGRI",
    "education": "EDUC",
    "disability": "SOCI",
    "gender": "SOCI",
    "gbv": "JUST",
    "lgbtiq": "SOCI",
    "caste-discrimination": "SOCI",
    "indigenous-peoples": "SOCI",
    "livelihoods": "ECON",
    "migration": "SOCI",
    "social-protection": "SOCI",
    "governance": "GOVE",
    "justice": "JUST",
    "land": "REGI",
    "climate": "ENVI",
    "disaster": "ENVI",
    "children": "SOCI",
    "older-people": "SOCI",
    "hiv": "HEAL",
}
#: ISO 639-1 (and -3) codes to the EU language authority.
LANGUAGES = {
    "en": "ENG",
    "ne": "NEP",
    "hi": "HIN",
    "mai": "MAI",
    "bho": "BHO",
    "new": "NEW",
    "tha": "THA",
    "taj": "TAJ",
    "bn": "BEN",
    "ur": "URD",
    "fr": "FRA",
    "es": "SPA",
}
COUNTRIES = {
    "NP": "NPL",
    "IN": "IND",
    "BD": "BGD",
    "PK": "PAK",
    "LK": "LKA",
    "BT": "BTN",
    "AF": "AFG",
    "MM": "MMR",
    "KE": "KEN",
    "UG": "UGA",
    "TZ": "TZA",
    "GH": "GHA",
    "NG": "NGA",
    "PH": "PHL",
    "ID": "IDN",
}
FORMATS = {
    "CSV": "CSV",
    "JSON": "JSON",
    "XLSX": "XLSX",
    "HTML": "HTML",
    "XML": "XML",
    "PDF": "PDF",
    "ZIP": "ZIP",
}


def new_graph() -> Graph:
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g


def add_dataset(g: Graph, item: PublishedDataset) -> URIRef:
    """Add one dataset with its distributions, publisher and contact; return its node."""
    ds = URIRef(item.uri)
    g.add((ds, RDF.type, DCAT.Dataset))
    for lang, text in item.titles.items():
        g.add((ds, DCTERMS.title, Literal(text, lang=lang)))
    descriptions = item.descriptions or {"en": item.title("en")}
    for lang, text in descriptions.items():
        g.add((ds, DCTERMS.description, Literal(text, lang=lang)))
    g.add((ds, DCTERMS.identifier, Literal(item.dataset.id)))
    g.add((ds, DCAT.landingPage, URIRef(item.landing_page)))
    if item.issued:
        g.add(
            (ds, DCTERMS.issued, Literal(item.issued.replace(microsecond=0), datatype=XSD.dateTime))
        )
    g.add(
        (ds, DCTERMS.modified, Literal(item.modified.replace(microsecond=0), datatype=XSD.dateTime))
    )
    if item.version_number is not None:
        g.add((ds, DCAT_NS["version"], Literal(str(item.version_number))))

    publisher = _agent(g, item)
    g.add((ds, DCTERMS.publisher, publisher))
    contact = item.contact
    if contact.get("email") or contact.get("name"):
        kind = BNode()
        g.add((kind, RDF.type, VCARD.Organization))
        g.add((kind, VCARD.fn, Literal(contact.get("name") or item.publisher["name"])))
        if contact.get("email"):
            g.add((kind, VCARD.hasEmail, URIRef(f"mailto:{contact['email']}")))
        g.add((ds, DCAT.contactPoint, kind))

    for topic in item.topics:
        theme = TOPIC_THEMES.get(topic)
        if theme:
            g.add((ds, DCAT.theme, DATA_THEME[theme]))
        g.add((ds, DCAT.theme, URIRef(f"{item.base_url}/topics/{topic}")))
    for keyword in item.keywords:
        label = (TOPICS.get(keyword) or {}).get("en") or keyword
        g.add((ds, DCAT.keyword, Literal(label, lang="en")))
    for code in item.languages:
        if code in LANGUAGES:
            g.add((ds, DCTERMS.language, LANGUAGE[LANGUAGES[code]]))

    if item.country in COUNTRIES:
        g.add((ds, DCTERMS.spatial, COUNTRY[COUNTRIES[item.country]]))
    for place in item.places:
        loc = URIRef(f"{item.base_url}/places/{place}")
        g.add((loc, RDF.type, DCTERMS.Location))
        g.add((loc, LOCN.geographicName, Literal(place)))
        g.add((loc, SKOS.prefLabel, Literal(place)))
        g.add((ds, DCTERMS.spatial, loc))
    start, end = item.period
    if start or end:
        period = BNode()
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if start:
            g.add((period, DCAT.startDate, Literal(start, datatype=XSD.date)))
        if end:
            g.add((period, DCAT.endDate, Literal(end, datatype=XSD.date)))
        g.add((ds, DCTERMS.temporal, period))

    licence = URIRef(item.licence_url) if item.licence_url else None
    if licence is not None:
        g.add((licence, RDF.type, DCTERMS.LicenseDocument))
        if item.licence_title:
            g.add((licence, RDFS.label, Literal(item.licence_title)))
        g.add((ds, DCTERMS.license, licence))

    summary = item.methodology_summary
    if summary:
        statement = BNode()
        g.add((statement, RDF.type, DCTERMS.ProvenanceStatement))
        g.add((statement, RDFS.label, Literal(summary, lang="en")))
        g.add((ds, DCTERMS.provenance, statement))
    if item.provenance:
        if item.provenance.get("original_url"):
            g.add((ds, DCTERMS.source, URIRef(item.provenance["original_url"])))
            g.add((ds, PROV.wasDerivedFrom, URIRef(item.provenance["original_url"])))
        g.add((ds, ADMS.identifier, _identifier(g, item.provenance)))

    for dist in item.distributions:
        node = URIRef(f"{item.uri}#distribution-{dist.key}")
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCTERMS.title, Literal(dist.title, lang="en")))
        if dist.description:
            g.add((node, DCTERMS.description, Literal(dist.description, lang="en")))
        g.add((node, DCAT.accessURL, URIRef(dist.access_url)))
        if dist.download_url:
            g.add((node, DCAT.downloadURL, URIRef(dist.download_url)))
        if dist.format in FORMATS:
            g.add((node, DCTERMS.format, FILE_TYPE[FORMATS[dist.format]]))
        elif dist.format:
            g.add((node, DCTERMS.format, Literal(dist.format)))
        if dist.media_type:
            g.add((node, DCAT.mediaType, URIRef(IANA + dist.media_type)))
        if licence is not None:
            g.add((node, DCTERMS.license, licence))
        g.add(
            (
                node,
                DCTERMS.modified,
                Literal(item.modified.replace(microsecond=0), datatype=XSD.dateTime),
            )
        )
        g.add((ds, DCAT.distribution, node))
    return ds


def _agent(g: Graph, item: PublishedDataset) -> URIRef:
    pub = item.publisher
    node = URIRef(pub["uri"])
    g.add((node, RDF.type, FOAF.Organization))
    g.add((node, RDF.type, FOAF.Agent))
    g.add((node, FOAF.name, Literal(pub["name"])))
    if pub.get("homepage", "").startswith(("http://", "https://")):
        g.add((node, FOAF.homepage, URIRef(pub["homepage"])))
    return node


def _identifier(g: Graph, provenance: dict) -> BNode:
    node = BNode()
    g.add((node, RDF.type, ADMS.Identifier))
    g.add((node, SKOS.notation, Literal(provenance.get("original_id") or "")))
    g.add(
        (
            node,
            DCTERMS.creator,
            Literal(provenance.get("source_title") or provenance.get("source") or ""),
        )
    )
    return node


def catalog_graph(
    items: Iterable[PublishedDataset],
    *,
    base_url: str,
    title: str,
    description: str,
    page_url: str,
    page: int,
    per_page: int,
    total: int,
    modified: datetime | None = None,
) -> Graph:
    """The catalogue (one page of datasets) with its hydra paging node."""
    g = new_graph()
    cat = URIRef(f"{base_url}/catalog")
    g.add((cat, RDF.type, DCAT.Catalog))
    g.add((cat, DCTERMS.title, Literal(title, lang="en")))
    g.add((cat, DCTERMS.description, Literal(description, lang="en")))
    g.add((cat, FOAF.homepage, URIRef(f"{base_url}/")))
    g.add((cat, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    g.add((cat, DCTERMS.language, LANGUAGE["ENG"]))
    g.add((cat, DCTERMS.language, LANGUAGE["NEP"]))
    portal = URIRef(f"{base_url}/#publisher")
    g.add((portal, RDF.type, FOAF.Agent))
    g.add((portal, FOAF.name, Literal(title)))
    g.add((cat, DCTERMS.publisher, portal))
    if modified is not None:
        g.add(
            (cat, DCTERMS.modified, Literal(modified.replace(microsecond=0), datatype=XSD.dateTime))
        )
    for item in items:
        g.add((cat, DCAT.dataset, add_dataset(g, item)))

    last = max(1, -(-total // per_page))
    pager = URIRef(_page(page_url, page))
    g.add((pager, RDF.type, HYDRA.PagedCollection))
    g.add((pager, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    g.add((pager, HYDRA.itemsPerPage, Literal(per_page, datatype=XSD.integer)))
    g.add((pager, HYDRA.firstPage, Literal(_page(page_url, 1))))
    g.add((pager, HYDRA.lastPage, Literal(_page(page_url, last))))
    if page < last:
        g.add((pager, HYDRA.nextPage, Literal(_page(page_url, page + 1))))
    if page > 1:
        g.add((pager, HYDRA.previousPage, Literal(_page(page_url, page - 1))))
    return g


def _page(url: str, page: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}page={page}"


def dataset_graph(item: PublishedDataset) -> Graph:
    g = new_graph()
    add_dataset(g, item)
    return g


JSONLD_CONTEXT = {prefix: str(ns) for prefix, ns in PREFIXES.items()}


def serialise(g: Graph, fmt: str) -> str:
    """Turtle, JSON-LD (compacted with our prefixes) or RDF/XML."""
    if fmt == "json-ld":
        return g.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True)
    return g.serialize(format=fmt)
