"""Dataset types: metadata in the reader's language, methodology, versions, distributions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import graphene

from api.federation.published import LOCAL_DOWNLOADS
from api.graphql.core.connection import CountableConnection
from api.graphql.core.context import pick_language
from api.graphql.core.futures import then
from api.graphql.core.places import Place
from api.graphql.core.scalars import JSON
from api.graphql.datasets import dataloaders as loaders
from api.graphql.vocabulary.types import Dimension, DimensionCode, LocalizedText, localized
from schema.topics import TOPICS
from schema.vocabularies import DIMENSIONS

DIMENSION_ROLES = ("dimension", "quasi_identifier")

#: (format, media type, path) of a local dataset's downloads: those DCAT and CKAN list.
DISTRIBUTIONS = tuple((key, media, path) for key, _t, _f, media, path, _d in LOCAL_DOWNLOADS)


@dataclass
class DatasetSource:
    """What a Dataset field resolves from: the public search document (plus search context)."""

    doc: dict[str, Any]
    highlights: dict[str, str] = field(default_factory=dict)
    lang: str | None = None

    @property
    def id(self) -> str:
        return self.doc["id"]

    def language(self, info, lang: str | None = None) -> str:
        return lang or self.lang or info.context.lang


class Highlight(graphene.ObjectType):
    """A snippet of a matched field, HTML-escaped, with matches in ``<mark>``."""

    field = graphene.String(required=True)
    snippet = graphene.String(required=True)


class Topic(graphene.ObjectType):
    code = graphene.String(required=True)
    label = graphene.String(required=True, lang=graphene.String())

    @staticmethod
    def resolve_code(root: str, info):
        return root

    @staticmethod
    def resolve_label(root: str, info, lang=None):
        return pick_language(TOPICS.get(root), lang or info.context.lang) or root


class Period(graphene.ObjectType):
    start = graphene.String(description="ISO date")
    end = graphene.String(description="ISO date")


class ParticipantSelection(graphene.ObjectType):
    method = graphene.String()
    sample_size = graphene.Int()
    inclusion_criteria = graphene.String()


class Collection(graphene.ObjectType):
    method = graphene.String()
    tool = graphene.String()


class Consent(graphene.ObjectType):
    how_obtained = graphene.String()
    uses = graphene.String()
    withdrawal_contact = graphene.String()


class Facilitation(graphene.ObjectType):
    collected_by = graphene.String()
    community_involvement = graphene.String()
    training = graphene.String()


class DataManagement(graphene.ObjectType):
    storage = graphene.String()
    retention = graphene.String()


def _text(value: Any, lang: str) -> str | None:
    if isinstance(value, dict):
        return pick_language(value, lang)
    return None if value is None else str(value)


def _sub(kind, values: dict | None, lang: str):
    if not values:
        return None
    names = list(kind._meta.fields)
    out = {}
    for name in names:
        value = values.get(name)
        out[name] = (
            value if isinstance(value, int) and not isinstance(value, bool) else _text(value, lang)
        )
    return kind(**out)


class Methodology(graphene.ObjectType):
    """How the data was collected, from the CGD standard's methodology section."""

    purpose = graphene.String()
    participant_selection = graphene.Field(ParticipantSelection)
    collection = graphene.Field(Collection)
    consent = graphene.Field(Consent)
    facilitation = graphene.Field(Facilitation)
    data_management = graphene.Field(DataManagement)
    limitations = graphene.String()
    document = graphene.Field(JSON, description="The whole methodology section as documented.")

    @staticmethod
    def build(values: dict, lang: str) -> Methodology:
        return Methodology(
            purpose=_text(values.get("purpose"), lang),
            participant_selection=_sub(
                ParticipantSelection, values.get("participant_selection"), lang
            ),
            collection=_sub(Collection, values.get("collection"), lang),
            consent=_sub(Consent, values.get("consent"), lang),
            facilitation=_sub(Facilitation, values.get("facilitation"), lang),
            data_management=_sub(DataManagement, values.get("data_management"), lang),
            limitations=_text(values.get("limitations"), lang),
            document=values,
        )


class AnonymisationSummary(graphene.ObjectType):
    """What disclosure control did to a version, as the public may see it."""

    k = graphene.Int(description="The k of k-anonymity the records reach.")
    l = graphene.Int(description="The l of l-diversity on sensitive attributes.")  # noqa: E741
    columns_dropped = graphene.Int(required=True)
    values_scrubbed = graphene.Int(required=True)
    generalisations = graphene.List(graphene.NonNull(graphene.String), required=True)
    cells_suppressed = graphene.Int(required=True)
    records_dropped = graphene.Int(required=True)
    expected_reidentifications_after = graphene.Float()

    @staticmethod
    def from_report(report: dict | None) -> AnonymisationSummary | None:
        if not report:
            return None
        return AnonymisationSummary(
            k=report.get("k"),
            l=report.get("l"),
            columns_dropped=len(report.get("dropped") or []),
            values_scrubbed=sum((report.get("scrubbed") or {}).values()),
            generalisations=[
                f"{g.get('column')}: {g.get('to')}" for g in report.get("generalisations") or []
            ],
            cells_suppressed=sum((report.get("suppressed_cells") or {}).values()),
            records_dropped=int(report.get("records_dropped") or 0),
            expected_reidentifications_after=(report.get("risk_after") or {}).get(
                "expected_reidentifications"
            ),
        )


class DatasetVersion(graphene.ObjectType):
    """One published (or since superseded or withdrawn) version of a dataset."""

    class Meta:
        interfaces = (graphene.relay.Node,)

    number = graphene.Int(required=True)
    status = graphene.String(required=True)
    record_count = graphene.Int(required=True)
    published_at = graphene.DateTime()
    withdrawn_at = graphene.DateTime()
    anonymisation = graphene.Field(AnonymisationSummary)

    @staticmethod
    def resolve_id(root, info):
        return root.id

    @staticmethod
    def resolve_anonymisation(root, info):
        return AnonymisationSummary.from_report(root.disclosure_report)

    @classmethod
    def get_node(cls, info, id):
        def public(version):
            return version if version and version.status in loaders.PUBLIC_VERSION_STATES else None

        return then(loaders.version_loader(info.context).load(id), public)

    @classmethod
    def is_type_of(cls, root, info):
        from catalog.models import DatasetVersion as Model

        return isinstance(root, Model)


class Distribution(graphene.ObjectType):
    """A download of the published, anonymised records."""

    format = graphene.String(required=True)
    media_type = graphene.String(required=True)
    url = graphene.String(required=True)


class DatasetDimension(graphene.ObjectType):
    """A column of the dataset that disaggregates: its dimension and code list."""

    column = graphene.String(required=True, description="Use this name in records and aggregate.")
    dimension = graphene.Field(Dimension, description="The standard dimension, if it is one.")
    codes = graphene.List(graphene.NonNull(DimensionCode), required=True)

    @staticmethod
    def resolve_dimension(root, info):
        return DIMENSIONS.get(root.dimension_code or "")

    @staticmethod
    def resolve_codes(root, info):
        dim = DIMENSIONS.get(root.dimension_code or "")
        return list(dim.codes) if dim else []


def dataset_dimensions(version) -> list[DatasetDimension]:
    out = []
    for name, spec in ((version.columns if version else None) or {}).items():
        spec = spec or {}
        if spec.get("role") in DIMENSION_ROLES and spec.get("dimension"):
            d = DatasetDimension(column=name)
            d.dimension_code = spec.get("dimension")
            out.append(d)
    return out


def dataset_measures(version) -> list[str]:
    return [
        name
        for name, spec in ((version.columns if version else None) or {}).items()
        if (spec or {}).get("role") == "measure"
    ]


class Endorsement(graphene.ObjectType):
    """A partner organisation's endorsement of the published version after a quality review."""

    organization = graphene.Field("api.graphql.organizations.types.Organization", required=True)
    statement = graphene.String(required=True)
    endorsed_at = graphene.DateTime(required=True)
    version_number = graphene.Int(required=True)

    @staticmethod
    def resolve_organization(root, info):
        return loaders.organisation_by_id_loader(info.context).load(root.organisation_id)


def _lang_arg():
    return graphene.String(description="Language code; default: Accept-Language, then English.")


class Dataset(graphene.ObjectType):
    """A published citizen-generated dataset."""

    class Meta:
        interfaces = (graphene.relay.Node,)

    database_id = graphene.String(required=True)
    slug = graphene.String(required=True)
    title = graphene.String(required=True, lang=_lang_arg())
    description = graphene.String(lang=_lang_arg())
    titles = graphene.List(graphene.NonNull(LocalizedText), required=True)
    descriptions = graphene.List(graphene.NonNull(LocalizedText), required=True)
    organization = graphene.Field("api.graphql.organizations.types.Organization", required=True)
    topics = graphene.List(graphene.NonNull(Topic), required=True)
    places = graphene.List(graphene.NonNull(Place), required=True)
    period = graphene.Field(Period)
    licence = graphene.String()
    languages = graphene.List(graphene.NonNull(graphene.String), required=True)
    record_count = graphene.Int(required=True)
    published_at = graphene.String()
    source = graphene.String(required=True, description="local, or the harvest source.")
    endorsed = graphene.Boolean(required=True)
    highlights = graphene.List(
        graphene.NonNull(Highlight), required=True, description="Matched snippets (search only)."
    )
    methodology = graphene.Field(Methodology, lang=_lang_arg())
    versions = graphene.List(graphene.NonNull(DatasetVersion), required=True)
    anonymisation = graphene.Field(
        AnonymisationSummary, description="Disclosure control of the published version."
    )
    endorsements = graphene.List(graphene.NonNull(Endorsement), required=True)
    distributions = graphene.List(graphene.NonNull(Distribution), required=True)
    dimensions = graphene.List(graphene.NonNull(DatasetDimension), required=True)
    measures = graphene.List(graphene.NonNull(graphene.String), required=True)

    @staticmethod
    def resolve_id(root: DatasetSource, info):
        return root.id

    @staticmethod
    def resolve_database_id(root: DatasetSource, info):
        return root.id

    @staticmethod
    def resolve_slug(root: DatasetSource, info):
        return root.doc["slug"]

    @staticmethod
    def resolve_title(root: DatasetSource, info, lang=None):
        return pick_language(root.doc.get("title"), root.language(info, lang)) or root.doc["slug"]

    @staticmethod
    def resolve_description(root: DatasetSource, info, lang=None):
        return pick_language(root.doc.get("description"), root.language(info, lang))

    @staticmethod
    def resolve_titles(root: DatasetSource, info):
        return localized(root.doc.get("title"))

    @staticmethod
    def resolve_descriptions(root: DatasetSource, info):
        return localized(root.doc.get("description"))

    @staticmethod
    def resolve_organization(root: DatasetSource, info):
        slug = (root.doc.get("organisation") or {}).get("slug")
        return loaders.organisation_by_slug_loader(info.context).load(slug)

    @staticmethod
    def resolve_topics(root: DatasetSource, info):
        return list(root.doc.get("topics") or [])

    @staticmethod
    def resolve_places(root: DatasetSource, info):
        return list(root.doc.get("places") or [])

    @staticmethod
    def resolve_period(root: DatasetSource, info):
        start, end = root.doc.get("period_start"), root.doc.get("period_end")
        return Period(start=start, end=end) if start or end else None

    @staticmethod
    def resolve_licence(root: DatasetSource, info):
        return root.doc.get("licence")

    @staticmethod
    def resolve_languages(root: DatasetSource, info):
        return list(root.doc.get("languages") or [])

    @staticmethod
    def resolve_record_count(root: DatasetSource, info):
        return int(root.doc.get("record_count") or 0)

    @staticmethod
    def resolve_published_at(root: DatasetSource, info):
        return root.doc.get("published_at")

    @staticmethod
    def resolve_source(root: DatasetSource, info):
        return root.doc.get("source") or "local"

    @staticmethod
    def resolve_endorsed(root: DatasetSource, info):
        # From the endorsements themselves (one batched query), not the search document's copy.
        version_id = root.doc.get("version_id")
        if not version_id:
            return False
        return then(loaders.endorsements_loader(info.context).load(version_id), bool)

    @staticmethod
    def resolve_highlights(root: DatasetSource, info):
        return [Highlight(field=k, snippet=v) for k, v in (root.highlights or {}).items()]

    @staticmethod
    def resolve_methodology(root: DatasetSource, info, lang=None):
        language = root.language(info, lang)

        def build(dataset):
            values = ((dataset.metadata_ if dataset else None) or {}).get("methodology")
            return Methodology.build(values, language) if values else None

        return then(loaders.catalog_dataset_loader(info.context).load(root.id), build)

    @staticmethod
    def resolve_versions(root: DatasetSource, info):
        return loaders.public_versions_loader(info.context).load(root.id)

    @staticmethod
    def _published(root: DatasetSource, info, fn, empty=None):
        version_id = root.doc.get("version_id")
        if not version_id:
            return empty
        return then(loaders.version_loader(info.context).load(version_id), fn)

    @staticmethod
    def resolve_anonymisation(root: DatasetSource, info):
        return Dataset._published(
            root,
            info,
            lambda v: AnonymisationSummary.from_report(v.disclosure_report if v else None),
        )

    @staticmethod
    def resolve_dimensions(root: DatasetSource, info):
        return Dataset._published(root, info, dataset_dimensions, [])

    @staticmethod
    def resolve_measures(root: DatasetSource, info):
        return Dataset._published(root, info, dataset_measures, [])

    @staticmethod
    def resolve_endorsements(root: DatasetSource, info):
        version_id = root.doc.get("version_id")
        if not version_id:
            return []
        return loaders.endorsements_loader(info.context).load(version_id)

    @staticmethod
    def resolve_distributions(root: DatasetSource, info):
        if not root.doc.get("version_id"):
            return []
        base = info.context.base_url.rstrip("/")
        slug = root.doc["slug"]
        return [
            Distribution(format=fmt, media_type=media, url=f"{base}/datasets/{slug}/{path}")
            for fmt, media, path in DISTRIBUTIONS
        ]

    @classmethod
    def get_node(cls, info, id):
        return then(
            loaders.search_document_loader(info.context).load(id),
            lambda doc: DatasetSource(doc=doc) if doc else None,
        )

    @classmethod
    def is_type_of(cls, root, info):
        return isinstance(root, DatasetSource)


class FacetValue(graphene.ObjectType):
    value = graphene.String(required=True)
    label = graphene.String(required=True)
    count = graphene.Int(required=True)


class Facet(graphene.ObjectType):
    """Counts of the matching datasets by one field (over all pages)."""

    field = graphene.String(required=True)
    values = graphene.List(graphene.NonNull(FacetValue), required=True)


class DatasetConnection(CountableConnection):
    class Meta:
        node = Dataset

    facets = graphene.List(
        graphene.NonNull(Facet),
        required=True,
        description="Facet counts of every match (organisation, topic, dimension, place, ...).",
    )

    @staticmethod
    def resolve_facets(root, info):
        return getattr(root, "facets", None) or []
