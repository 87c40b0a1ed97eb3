"""Real-world inputs: Excel workbooks and CSV files -> a validated cohort data folder.

Public API:

* :func:`write_template` -- the Vietnamese Excel template (one sheet per contract table);
* :func:`import_files` -- read workbooks / CSV files (the template or district report shapes),
  decode Vietnamese text, match names to codes, pseudonymise student lists, validate, and write
  the cohort folder with ``import_report.md`` / ``import_report.json`` beside it; raises
  :class:`ImportFailed` (every problem, nothing written);
* :mod:`.vntext` -- Unicode NFC, TCVN3/VNI detection and conversion, tolerant name matching.
"""
from __future__ import annotations

from .core import REPORT_JSON, REPORT_MD, ImportResult, import_files
from .issues import ImportFailed, ImportIssue, KeyMissing
from .students import KEY_ENV, KEY_FILE_ENV, load_key
from .template import write_template

__all__ = ["import_files", "write_template", "ImportResult", "ImportFailed", "ImportIssue", "KeyMissing",
           "KEY_ENV", "KEY_FILE_ENV", "load_key", "REPORT_MD", "REPORT_JSON"]
