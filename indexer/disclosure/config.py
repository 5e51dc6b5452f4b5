"""Settings of disclosure control for one dataset version."""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.disclosure.scrub import TextRecogniser

#: Topics that raise k from ``k`` to ``k_sensitive`` (matched case-insensitively
#: against the dataset's ``sensitive_topics``; any non-empty list counts).
SENSITIVE_TOPIC_EXAMPLES = ("gbv", "sogi", "hiv", "legal_status", "violence", "disability")


@dataclass(frozen=True)
class DisclosureConfig:
    """How strictly a dataset is protected.

    ``k`` overrides the default (5, or ``k_sensitive`` when the dataset has any
    sensitive topic); it is never lowered below 2.
    """

    k: int | None = None
    k_default: int = 5
    k_sensitive: int = 10
    l: int = 2  # noqa: E741 - the name of the privacy model
    #: standard admin level places are generalised to: province, district, municipality
    place_level: str = "district"
    #: width of the narrowest age band published
    age_band_width: int = 5
    #: ages at or above this are one open band ("80+")
    age_top_code: int = 80
    #: dates are published to this precision at the least: "month" or "year"
    date_level: str = "month"
    #: categories with fewer records than this are published as ``other_code``
    rare_category_min: int = 5
    other_code: str = "other"
    #: largest share of records that may lose a cell to local suppression before
    #: the quasi-identifiers are generalised one step further instead
    max_suppression_share: float = 0.05
    #: individual risk above which a record counts as "at risk" in the report
    risk_threshold: float = 0.2
    #: optional sampling-weight column (sdcMicro's weighted individual risk)
    weight_column: str | None = None
    #: share of sampled values that must look like identifiers to drop a column
    detection_share: float = 0.5
    #: dimension columns are quasi-identifiers unless flagged sensitive
    dimensions_are_quasi_identifiers: bool = True
    #: number of scrubbed free-text samples shown to the publisher
    preview_size: int = 5
    #: optional named-entity recogniser (e.g. :class:`PresidioRecogniser`)
    recogniser: TextRecogniser | None = field(default=None, compare=False)

    def effective_k(self, sensitive_topics: list[str] | tuple[str, ...] = ()) -> int:
        if self.k is not None:
            return max(2, self.k)
        return self.k_sensitive if any(t for t in sensitive_topics) else self.k_default
