"""Dataset metadata of the CGD standard (marshmallow).

:func:`load_metadata` validates a metadata document and returns it
normalised (strings stripped, dates as ISO strings, defaults filled). Every
problem is reported at once, each naming its field by dotted path
(``methodology.consent.how_obtained``).
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from .errors import InvalidInput, Problem
from .licences import LICENCES
from .roles import ColumnRole, ColumnSpec
from .topics import TOPICS
from .vocabularies import DIMENSIONS, LANGUAGE, LEVELS, level_of

SENSITIVE_TOPICS: dict[str, dict[str, str]] = {
    "gbv": {"en": "Gender-based violence", "ne": "लैङ्गिक हिंसा"},
    "sogi": {
        "en": "Sexual orientation and gender identity",
        "ne": "यौनिक अभिमुखीकरण र लैङ्गिक पहिचान",
    },
    "hiv": {"en": "HIV status", "ne": "एचआईभी स्थिति"},
    "legal_status": {"en": "Legal or citizenship status", "ne": "कानुनी वा नागरिकता स्थिति"},
    "health": {"en": "Health conditions", "ne": "स्वास्थ्य अवस्था"},
    "mental_health": {"en": "Mental health", "ne": "मानसिक स्वास्थ्य"},
    "disability": {"en": "Disability", "ne": "अपाङ्गता"},
    "caste": {"en": "Caste or ethnicity", "ne": "जात वा जातीयता"},
    "religion": {"en": "Religion or belief", "ne": "धर्म वा आस्था"},
    "child_protection": {"en": "Child protection", "ne": "बाल संरक्षण"},
    "trafficking": {"en": "Human trafficking", "ne": "मानव बेचबिखन"},
    "criminal_record": {"en": "Criminal record", "ne": "आपराधिक अभिलेख"},
}

SELECTION_METHODS = (
    "census",
    "random",
    "stratified_random",
    "cluster",
    "systematic",
    "purposive",
    "snowball",
    "respondent_driven",
    "quota",
    "convenience",
    "other",
)
COLLECTION_METHODS = (
    "face_to_face",
    "phone",
    "online",
    "sms",
    "focus_group",
    "key_informant_interview",
    "observation",
    "self_administered_paper",
    "community_scorecard",
    "social_audit",
    "administrative_records",
    "mixed",
    "other",
)
MIN_CUBE_THRESHOLD = 5
DEFAULT_CUBE_THRESHOLD = 10
#: the perturbation table reuses its rows 501..750 for larger counts, so those
#: rows must all be above the threshold (indexer/disclosure/cube.py)
MAX_CUBE_THRESHOLD = 500
_LANG_KEY = re.compile(r"^[a-z]{2,3}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class Text(fields.String):
    """A stripped, non-blank string of bounded length."""

    def __init__(self, *, max_length: int = 5000, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min=1, max=max_length), **kwargs)
        self.error_messages.setdefault("required", "Missing required field.")

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        text = text.strip()
        if not text:
            raise ValidationError("Must not be blank.")
        return text


def _required(message: str) -> dict[str, str]:
    return {"required": message, "null": message}


class MultilingualText(fields.Dict):
    """``{language code: text}`` with an English or Nepali entry."""

    def __init__(self, *, max_length: int = 5000, **kwargs: Any) -> None:
        super().__init__(keys=fields.String(), values=fields.String(), **kwargs)
        self.max_length = max_length

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> dict[str, str]:
        if isinstance(value, str):
            value = {"en": value}
        if not isinstance(value, dict):
            raise ValidationError('Give the text per language, e.g. {"en": "...", "ne": "..."}.')
        out: dict[str, str] = {}
        errors: dict[str, list[str]] = {}
        for lang, text in value.items():
            if not isinstance(lang, str) or not _LANG_KEY.match(lang):
                errors[str(lang)] = [
                    "Use an ISO 639 language code such as 'en' or 'ne' as the key."
                ]
                continue
            if not isinstance(text, str) or not text.strip():
                errors[lang] = ["Must be non-blank text."]
                continue
            if len(text) > self.max_length:
                errors[lang] = [f"Longer than {self.max_length} characters."]
                continue
            out[lang] = text.strip()
        if errors:
            raise ValidationError(errors)
        if not ({"en", "ne"} & out.keys()):
            raise ValidationError("Give at least an English ('en') or Nepali ('ne') text.")
        return out


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ParticipantSelectionSchema(_Strict):
    method = fields.String(
        required=True,
        validate=validate.OneOf(SELECTION_METHODS, error="Use one of: {choices}."),
        error_messages=_required(
            "Say how participants were selected (census, random, purposive, snowball, ...)."
        ),
        metadata={"description": "How participants were selected."},
    )
    sample_size = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, error="Must be a whole number of at least 1."),
        error_messages=_required("Give the number of participants (sample size)."),
    )
    inclusion_criteria = Text(
        required=True,
        error_messages=_required("Describe who could take part (inclusion criteria)."),
    )
    description = Text(load_default=None, allow_none=True)


class CollectionSchema(_Strict):
    method = fields.String(
        required=True,
        validate=validate.OneOf(COLLECTION_METHODS, error="Use one of: {choices}."),
        error_messages=_required(
            "Say how data were collected (face_to_face, phone, online, focus_group, ...)."
        ),
    )
    tool = Text(
        load_default=None,
        allow_none=True,
        max_length=200,
        metadata={"description": "e.g. KoboToolbox, ODK, paper"},
    )
    description = Text(load_default=None, allow_none=True)


class ConsentSchema(_Strict):
    how_obtained = Text(
        required=True,
        error_messages=_required(
            "Describe how informed consent was obtained (verbal, written, ...)."
        ),
    )
    uses = Text(
        required=True,
        error_messages=_required("Say what participants consented to the data being used for."),
    )
    withdrawal_contact = Text(
        required=True,
        max_length=500,
        error_messages=_required("Give a contact participants can use to withdraw their data."),
    )


class FacilitationSchema(_Strict):
    collected_by = Text(
        required=True,
        error_messages=_required(
            "Say who collected the data (e.g. trained community enumerators)."
        ),
    )
    community_involvement = Text(
        required=True,
        error_messages=_required(
            "Describe how the community took part in design, collection or review."
        ),
    )
    training = Text(load_default=None, allow_none=True)


class DataManagementSchema(_Strict):
    storage = Text(
        required=True, error_messages=_required("Describe where and how the raw data are stored.")
    )
    retention = Text(
        required=True,
        error_messages=_required("Say how long the raw data are kept and how deleted."),
    )


class MethodologySchema(_Strict):
    purpose = Text(required=True, error_messages=_required("Say why the data were collected."))
    participant_selection = fields.Nested(
        ParticipantSelectionSchema,
        required=True,
        error_messages=_required("Describe how participants were selected."),
    )
    collection = fields.Nested(
        CollectionSchema,
        required=True,
        error_messages=_required("Describe how data were collected."),
    )
    consent = fields.Nested(
        ConsentSchema, required=True, error_messages=_required("Describe informed consent.")
    )
    facilitation = fields.Nested(
        FacilitationSchema,
        required=True,
        error_messages=_required("Describe who collected the data and how."),
    )
    data_management = fields.Nested(
        DataManagementSchema,
        required=True,
        error_messages=_required("Describe storage and retention of the raw data."),
    )
    limitations = Text(
        required=True,
        error_messages=_required("State the known limitations (write 'none known' if so)."),
    )


class CoverageSchema(_Strict):
    places = fields.List(
        fields.String(), load_default=list, metadata={"description": "Geography codes"}
    )
    level = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(LEVELS, error="Use one of: {choices}."),
    )

    @validates_schema
    def _known_places(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        level = data.get("level")
        for i, place in enumerate(data.get("places") or []):
            found = level_of(place)
            if found is None:
                errors[str(i)] = [
                    f"Unknown geography code {place!r}; use a province, district or municipality code."
                ]
            elif level and found != level:
                errors[str(i)] = [f"{place!r} is a {found} code but coverage.level is {level!r}."]
        if errors:
            raise ValidationError({"places": errors})

    @post_load
    def _derive_level(self, data: dict, **kwargs: Any) -> dict:
        if not data.get("level") and data.get("places"):
            levels = {level_of(p) for p in data["places"]}
            # The coarsest level present describes the coverage as a whole.
            data["level"] = min(levels, key=LEVELS.index)
        return data


class PeriodSchema(_Strict):
    start = fields.Date(
        required=True,
        error_messages={
            "required": "Give the start date (YYYY-MM-DD).",
            "invalid": "Use a date as YYYY-MM-DD.",
        },
    )
    end = fields.Date(
        required=True,
        error_messages={
            "required": "Give the end date (YYYY-MM-DD).",
            "invalid": "Use a date as YYYY-MM-DD.",
        },
    )

    @validates_schema
    def _ordered(self, data: dict, **kwargs: Any) -> None:
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("The end date is before the start date.", "end")

    @post_load
    def _iso(self, data: dict, **kwargs: Any) -> dict:
        return {k: v.isoformat() for k, v in data.items()}


class ContactSchema(_Strict):
    name = Text(
        required=True, max_length=200, error_messages=_required("Give the contact's name or role.")
    )
    email = fields.Email(
        required=True,
        error_messages={
            **_required("Give a contact email."),
            "invalid": "Not a valid email address.",
        },
    )


class ColumnSchema(_Strict):
    role = fields.String(
        required=True,
        validate=validate.OneOf([r.value for r in ColumnRole], error="Use one of: {choices}."),
        error_messages=_required("Give the column's role."),
    )
    dimension = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(
            list(DIMENSIONS), error="Unknown dimension; use one of: {choices}."
        ),
    )
    sensitive = fields.Boolean(load_default=False)
    label = Text(load_default=None, allow_none=True, max_length=300)

    @validates_schema
    def _dimension_needed(self, data: dict, **kwargs: Any) -> None:
        if data.get("role") == ColumnRole.DIMENSION and not data.get("dimension"):
            raise ValidationError("A dimension column must name its dimension.", "dimension")


class DatasetMetadataSchema(_Strict):
    """The metadata document of one dataset."""

    title = MultilingualText(
        required=True,
        max_length=300,
        error_messages=_required("Give a title in English ('en') or Nepali ('ne')."),
    )
    description = MultilingualText(load_default=None, allow_none=True, max_length=20000)
    slug = fields.String(
        load_default=None,
        allow_none=True,
        validate=[
            validate.Length(max=100),
            validate.Regexp(_SLUG, error="Use lower-case letters, digits and single hyphens."),
        ],
    )
    topics = fields.List(
        fields.String(
            validate=validate.OneOf(list(TOPICS), error="Unknown topic; use one of: {choices}.")
        ),
        load_default=list,
    )
    coverage = fields.Nested(CoverageSchema, load_default=None, allow_none=True)
    period = fields.Nested(PeriodSchema, load_default=None, allow_none=True)
    licence = fields.String(
        required=True,
        validate=validate.OneOf(
            list(LICENCES), error="Not an accepted open licence; use one of: {choices}."
        ),
        error_messages=_required("Choose an open licence (e.g. CC-BY-4.0)."),
    )
    contact = fields.Nested(
        ContactSchema, required=True, error_messages=_required("Give a contact (name, email).")
    )
    languages = fields.List(
        fields.String(
            validate=validate.OneOf(
                [c.code for c in LANGUAGE.codes],
                error="Unknown language code; use one of: {choices}.",
            )
        ),
        load_default=list,
        metadata={"description": "Languages the data were collected in (ISO 639-1, else 639-3)."},
    )
    methodology = fields.Nested(
        MethodologySchema,
        required=True,
        error_messages=_required(
            "The methodology section is required (purpose, selection, collection, consent, ...)."
        ),
    )
    sensitive_topics = fields.List(
        fields.String(
            validate=validate.OneOf(
                list(SENSITIVE_TOPICS), error="Unknown sensitive topic; use one of: {choices}."
            )
        ),
        load_default=list,
    )
    columns = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=200)),
        values=fields.Nested(ColumnSchema),
        load_default=None,
        allow_none=True,
    )
    country = fields.String(
        load_default="NP",
        validate=validate.Regexp(_COUNTRY, error="Use an ISO 3166-1 alpha-2 code such as 'NP'."),
    )
    cube_threshold = fields.Integer(
        load_default=DEFAULT_CUBE_THRESHOLD,
        strict=True,
        validate=validate.Range(
            min=MIN_CUBE_THRESHOLD,
            max=MAX_CUBE_THRESHOLD,
            error="Must be a whole number from {min} to {max}.",
        ),
    )

    @post_load
    def _normalise(self, data: dict, **kwargs: Any) -> dict:
        for key in ("topics", "languages", "sensitive_topics"):
            data[key] = list(dict.fromkeys(data.get(key) or []))
        if data.get("columns") is None:
            data.pop("columns", None)
        for key in ("description", "slug", "coverage", "period"):
            if data.get(key) is None:
                data.pop(key, None)
        return data


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix
            elif key in ("value", "key") and isinstance(value, dict | list) and prefix:
                # marshmallow nests Dict field errors under "key"/"value".
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_flatten(value, path))
    elif isinstance(messages, list):
        for m in messages:
            out.extend(_flatten(m, prefix))
    else:
        out.append((prefix, str(messages)))
    return out


def _problem_code(message: str) -> str:
    if message.startswith("Unknown field"):
        return "unknown_field"
    if "required" in message.lower() or message.startswith(
        ("Give", "Describe", "Say", "State", "Choose", "The methodology")
    ):
        return "missing_field"
    return "invalid_field"


def load_metadata(data: dict) -> dict:
    """Validate a metadata document; return it normalised or raise InvalidInput.

    Each :class:`~schema.errors.Problem` names the dotted ``field`` path and
    what to do about it.
    """
    if not isinstance(data, dict):
        raise InvalidInput(
            "Metadata must be a JSON object.",
            [Problem("invalid_metadata", "Metadata must be a JSON object.", field="")],
            code="invalid_metadata",
        )
    try:
        return DatasetMetadataSchema().load(data)
    except ValidationError as exc:
        problems = [
            Problem(_problem_code(msg), msg, field=path) for path, msg in _flatten(exc.messages)
        ]
        problems.sort(key=lambda p: p.field or "")
        n = len(problems)
        raise InvalidInput(
            f"The metadata has {n} problem{'s' if n != 1 else ''}.",
            problems,
            code="invalid_metadata",
        ) from None


def columns_from_metadata(meta: dict) -> dict[str, ColumnSpec] | None:
    """The column specs declared in loaded metadata, or None when to be suggested."""
    cols = meta.get("columns")
    if cols is None:
        return None
    return {name: ColumnSpec.from_dict(name, spec) for name, spec in cols.items()}


__all__ = [
    "COLLECTION_METHODS",
    "DEFAULT_CUBE_THRESHOLD",
    "MAX_CUBE_THRESHOLD",
    "MIN_CUBE_THRESHOLD",
    "SELECTION_METHODS",
    "SENSITIVE_TOPICS",
    "DatasetMetadataSchema",
    "columns_from_metadata",
    "load_metadata",
]
