"""Disclosure control: nothing personal is ever public.

``anonymise`` turns an upload into records safe to index, with a report for
the publisher; ``build_cube`` turns those records into the protected aggregate
cube the API and pages serve.
"""

from indexer.disclosure.anonymise import anonymise
from indexer.disclosure.config import DisclosureConfig
from indexer.disclosure.cube import CubeCell, ProtectedCube, build_cube, make_ptable, record_keys
from indexer.disclosure.report import AnonymisedTable, DisclosureReport, DroppedColumn
from indexer.disclosure.risk import RiskSummary, individual_risk, measure_risk
from indexer.disclosure.scrub import PresidioRecogniser, TextRecogniser

__all__ = [
    "AnonymisedTable",
    "CubeCell",
    "DisclosureConfig",
    "DisclosureReport",
    "DroppedColumn",
    "PresidioRecogniser",
    "ProtectedCube",
    "RiskSummary",
    "TextRecogniser",
    "anonymise",
    "build_cube",
    "individual_risk",
    "make_ptable",
    "measure_risk",
    "record_keys",
]
