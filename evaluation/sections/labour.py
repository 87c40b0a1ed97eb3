"""Section 07 · labour demand and the vocational network (optional tables): ``labour_alignment``
and ``vocational_network``, each made only when its input tables are in the cohort folder."""
from __future__ import annotations

import pandas as pd

from .. import labour
from .. import findings as fnd
from ..data import CohortData
from ..disclosure import protect_labour, protect_network
from ..evidence import labour_alignment_table, vocational_network_table
from ..params import ReviewParams
from .base import Review, SectionResult

NOTEBOOK = "07_labour_and_network.ipynb"


def _absent(cohort: CohortData, *names: str) -> list[str]:
    return [n for n in names if getattr(cohort, n, None) is None]


def labour_and_network(cohort: CohortData, params: ReviewParams, *, review: Review | None = None,
                       figures: bool = True) -> SectionResult:
    """``labour_alignment`` (``labour.labour_alignment``: enterprises' demand against training
    places, needs ``labour_demand`` and ``vocational_supply``) and ``vocational_network``
    (``labour.vocational_network`` and access by commune before and after 2025, needs
    ``vocational_supply``). A part whose tables are absent is skipped with a note."""
    review = Review.of(cohort, params, review)
    p = params
    out = SectionResult("labour_and_network", NOTEBOOK)
    network = labour.vocational_network(cohort.vocational_supply) if cohort.vocational_supply is not None else None
    absent = _absent(cohort, "labour_demand", "vocational_supply")
    if absent:
        t = ", ".join(absent)
        out.notes.append((f"Bỏ qua phần cung cầu lao động: thư mục dữ liệu không có bảng {t}.",
                          f"Section skipped (labour demand against training): table {t} is not in the data folder."))
        published_network = None if network is None else protect_network(network, min_cell=p.min_cell)
    else:
        # one pattern for both tables: an alignment row is its year's institutions of the trade and
        # level added up, so the two are protected together (disclosure.protect_labour); everything
        # shown from the alignment is computed from the protected table
        alignment, published_network = protect_labour(
            labour.labour_alignment(cohort.labour_demand, cohort.vocational_supply), network, min_cell=p.min_cell)
        notes = fnd.labour_findings(alignment)
        out.add(labour_alignment_table(alignment, min_cell=p.min_cell, notebook=NOTEBOOK, synthetic=review.synthetic,
                                       findings=notes))
        out.displays.update(trade_status=labour.trade_status(alignment), mismatch_trend=labour.mismatch_trend(alignment),
                            local_coverage=labour.local_coverage(alignment), labour_findings=notes[p.lang])
    absent = _absent(cohort, "vocational_supply")
    if absent:
        out.notes.append(("Bỏ qua phần mạng lưới GDNN: thư mục dữ liệu không có bảng vocational_supply.",
                          "Section skipped (the vocational network): table vocational_supply is not in the data folder."))
    else:
        access = [labour.provision_access(cohort.communes, cohort.vocational_supply, geography=geo,
                                          khmer_threshold=p.khmer_commune_threshold)
                  for geo in ("pre2025", "post2025")]
        notes = fnd.network_findings(network, access)
        # rows of few people hidden with their complements: labour_alignment adds the institutions of a
        # year, trade and level up, the network summary the years of a trade and level
        out.add(vocational_network_table(published_network, min_cell=p.min_cell,
                                         notebook=NOTEBOOK, synthetic=review.synthetic, findings=notes))
        summary = protect_network(labour.network_summary(cohort.vocational_supply, by=["trade", "level"]),
                                  min_cell=p.min_cell, partitions=[["level"]])
        out.displays.update(network_summary=summary,
                            provision_access=pd.concat(access, ignore_index=True), network_findings=notes[p.lang])
    return out
