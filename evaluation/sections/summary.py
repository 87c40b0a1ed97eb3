"""Section 99 · review summary: the review's findings, sentences generated from the other
sections' evidence tables (``findings``)."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .. import findings as fnd
from .base import SectionResult

NOTEBOOK = "99_review_summary.ipynb"


def review_summary(tables: Mapping[str, pd.DataFrame] | str, *, synthetic: bool, lang: str = "vi") -> SectionResult:
    """``findings`` (``findings.review_findings``) from the evidence tables as the bundle holds them:
    a mapping table id -> frame (``evidence.read_table``'s types), or a bundle/staging folder.
    The notebook shows the findings as a numbered list."""
    review = fnd.review_findings(tables)
    out = SectionResult("review_summary", NOTEBOOK)
    out.add(fnd.findings_table(review, notebook=NOTEBOOK, synthetic=synthetic))
    out.displays["findings_markdown"] = fnd.findings_markdown(review, lang)
    return out
