"""Evidence tables: the machine-readable tables of an evidence bundle and their metadata.

The package has one module per concern:

* :mod:`.registry` — table ids (``TABLES``), ``TableSpec``, column labels and formats
  (``reference_data/columns.csv``);
* :mod:`.specs` — the spec of every table the review writes (keys, minimum columns, titles, notes);
* :mod:`.table` — ``EvidenceTable``: the contract checks and the canonical CSV bytes;
* :mod:`.builders` — one builder per table, from indicator frames and results objects;
* :mod:`.bundle` — ``write_table`` into a staging folder, ``build_index``, ``read_table``.

Units: rates are fractions 0..1; effects, gaps and trends are percentage points (columns
ending in ``_pp``, and ``std_error``, ``ci_low``, ``ci_high`` beside them); intervals are 95 %.

Files written (``stage_dir`` is the run's staging folder):

* ``evidence/<id>.csv``: UTF-8 without BOM, ``\\n`` line ends, one header row, minimum
  columns first then extras, rows sorted by the table's keys, floats as ``%.10g``, booleans as
  ``true``/``false``, missing values empty. Two writes of the same table give the same bytes.
* ``evidence/<id>.meta.json``: a sidecar with the titles, notes, notebook and columns.
  ``build_index`` gathers the sidecars into ``evidence/index.json`` and deletes them, so the
  finished bundle holds exactly the files the contract lists.
"""
from .registry import (EVIDENCE_DIR, FLOAT_FORMAT, FORMATS, INDEX_NAME, META_SUFFIX, SYNTHETIC_MARKER, TABLES,
                       EvidenceError, TableSpec, column_info, register_table)
from .specs import CONTRACT_TABLE_IDS, PLAN_TABLE_IDS, SENSITIVITY_TABLE_IDS
from .table import EvidenceTable, _fmt_float
from .bundle import build_index, frame_from_csv_bytes, mark_synthetic, read_index, read_table, write_table
from .builders import (apply_suppression, coverage_by_year_table, data_quality_table, effect_overall_table,
                       equity_gaps_table, event_study_table, labour_alignment_table, projections_table, trend_table,
                       pretrend_sensitivity_table,
                       uptake_by_commune_table, uptake_by_group_table, uptake_by_year_table, value_label,
                       vocational_network_table)
from .builders._common import _int, _num, _p, _pct
from .builders.estimates import _event_time_of, _find_pretrend

__all__ = [
    "TableSpec", "TABLES", "CONTRACT_TABLE_IDS", "register_table", "EvidenceTable", "EvidenceError",
    "column_info", "uptake_by_year_table", "uptake_by_commune_table", "uptake_by_group_table",
    "coverage_by_year_table", "trend_table", "effect_overall_table", "event_study_table",
    "equity_gaps_table", "data_quality_table", "write_table", "build_index", "read_index",
    "read_table", "frame_from_csv_bytes", "apply_suppression", "SYNTHETIC_MARKER", "mark_synthetic", "value_label",
    "PLAN_TABLE_IDS", "SENSITIVITY_TABLE_IDS", "pretrend_sensitivity_table", "labour_alignment_table", "vocational_network_table", "projections_table",
    "EVIDENCE_DIR", "INDEX_NAME", "META_SUFFIX", "FLOAT_FORMAT", "FORMATS",
]
