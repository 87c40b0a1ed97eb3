"""Read input files (Excel workbooks, CSV) into plain grids of cells, refusing what cannot be read.

A :class:`Grid` is one worksheet (or one CSV file): cell values as Excel stores them (text,
numbers, dates, booleans; formulas as their **saved** results), each cell's number format
(to tell a percentage or a date from a count), and the merged ranges.

Formulas: openpyxl reads the result Excel saved with the file (``data_only=True``); it does not
calculate. A workbook last written by a program that does not calculate (openpyxl itself,
some exporters) has formulas without saved results: such a cell is reported (never read as
empty); opening and saving the file in Excel or LibreOffice stores the results.

Files refused, each with its own message: empty files, files that are not a workbook (a damaged
zip container or deflate stream), password-protected (encrypted) workbooks, Excel 97-2003 ``.xls``
files, OpenDocument and other formats, CSV files that are not UTF-8 (UTF-16 "Unicode text"
included), and files too large to be a district's data: more than ``MAX_FILE_BYTES`` on disk, a
workbook whose parts unpack to more than ``MAX_UNPACKED_BYTES`` or at a ratio above
``MAX_RATIO`` (a "zip bomb"), a sheet of more than ``MAX_CELLS`` cells.

Sheets are streamed row by row (openpyxl read-only mode) and never padded to the dimension a
sheet declares (``A1:XFD1048576`` would be 17 billion cells): only the cells the sheet holds are
read, trailing empty cells of a row dropped.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .issues import ImportIssue

#: The first bytes of an OLE2 compound file: an Excel 97-2003 .xls file, or an encrypted
#: (password-protected) .xlsx file, which Office wraps in the same container.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)
#: Largest input file read (bytes on disk). A district's workbook is a few MB.
MAX_FILE_BYTES = 100 * 1024 * 1024
#: Largest total size of a workbook's parts once unpacked (the zip's declared sizes, which
#: Python's zip reader enforces: a part that unpacks to more fails its check).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: Largest unpacked/packed ratio of a part above 1 MB (sheet XML packs 5-20x; bombs 1000x).
MAX_RATIO = 200
#: Most cells (non-empty rows, up to their last cell) read from one sheet.
MAX_CELLS = 5_000_000


@dataclass
class Grid:
    """One sheet as read: ``values[r][c]`` (0-based; Excel row = r + 1, column = c + 1),
    ``formats`` the number format of each cell (``""`` for CSV), ``merged`` the merged ranges as
    ``(min_row, min_col, max_row, max_col)`` (1-based, inclusive), ``no_cached`` the (row, col)
    (1-based) of formula cells without a saved result."""

    file: str
    sheet: str | None
    values: list[list[Any]]
    formats: list[list[str]]
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    no_cached: set[tuple[int, int]] = field(default_factory=set)
    hidden: bool = False
    hidden_cols: set[int] = field(default_factory=set)

    @property
    def n_rows(self) -> int:
        return len(self.values)

    def __post_init__(self) -> None:
        self._n_cols = max((len(r) for r in self.values), default=0)

    @property
    def n_cols(self) -> int:
        return self._n_cols

    def value(self, r: int, c: int) -> Any:
        """Cell at Excel row ``r``, column ``c`` (1-based); ``None`` outside the grid."""
        if 1 <= r <= len(self.values) and 1 <= c <= len(self.values[r - 1]):
            return self.values[r - 1][c - 1]
        return None

    def fmt(self, r: int, c: int) -> str:
        if 1 <= r <= len(self.formats) and 1 <= c <= len(self.formats[r - 1]):
            return self.formats[r - 1][c - 1]
        return ""


def col_letter(c: int) -> str:
    """Excel column letter of 1-based column ``c`` (1 -> A, 27 -> AA)."""
    s = ""
    while c:
        c, rem = divmod(c - 1, 26)
        s = chr(65 + rem) + s
    return s


class Unreadable(Exception):
    def __init__(self, issue: ImportIssue) -> None:
        self.issue = issue
        super().__init__(str(issue))


def _fail(name: str, check: str, expected: str, value: str | None = None) -> Unreadable:
    return Unreadable(ImportIssue(check=check, file=name, expected=expected, value=value))


def read_file(path: Path) -> list[Grid]:
    """Every sheet of a workbook (or the one grid of a CSV file). Raises :class:`Unreadable`."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise _fail(name, "file_missing", "an existing file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _fail(name, "file_too_large",
                        f"an input file of at most {MAX_FILE_BYTES // (1024 * 1024)} MB: this one has "
                        f"{size // (1024 * 1024)} MB; split it by year or school")
        data = path.read_bytes()
    except OSError as exc:  # no permission, a disk error, a file on a network share gone
        raise _fail(name, "file_unreadable", f"a file the import can read: reading it failed "
                                             f"({exc.strerror or exc})") from None
    if len(data) == 0:
        raise _fail(name, "empty_file", "a workbook or CSV file with data; this file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if data.startswith(OLE2_MAGIC):
        if _is_encrypted(data):
            raise _fail(name, "password_protected",
                        "a workbook without a password: this one is encrypted (password-protected); open it in "
                        "Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, "
                        "empty) and save it again")
        raise _fail(name, "old_excel_format",
                    "an Excel workbook in .xlsx format: this is an Excel 97-2003 (.xls) file; open it in Excel or "
                    "LibreOffice and save it as .xlsx")
    if suffix in WORKBOOK_SUFFIXES or data.startswith(ZIP_MAGIC):
        if not data.startswith(ZIP_MAGIC):
            raise _fail(name, "not_a_workbook",
                        "an .xlsx workbook: the file does not start like one (it may be a renamed text, HTML or PDF "
                        "file); open it in Excel and save it as .xlsx")
        return _read_xlsx(path, data)
    if suffix in CSV_SUFFIXES:
        return [_read_csv(name, data)]
    if suffix in (".ods", ".xls", ".xlsb", ".numbers"):
        raise _fail(name, "unsupported_format",
                    f"an .xlsx workbook or a .csv file: {suffix} files are not read; save it as .xlsx")
    raise _fail(name, "unsupported_format", f"an .xlsx workbook or a .csv file (this file ends in "
                                            f"'{path.suffix or '(nothing)'}')")


def _is_encrypted(data: bytes) -> bool:
    # An encrypted OOXML package is an OLE2 file whose directory holds the streams
    # "EncryptionInfo" and "EncryptedPackage" (names stored in UTF-16LE).
    return "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data


def _read_xlsx(path: Path, data: bytes) -> list[Grid]:
    import openpyxl

    name = path.name
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise _fail(name, "corrupt_workbook",
                    "a readable .xlsx workbook: its zip container is damaged (a download or copy cut short?); "
                    "get a fresh copy of the file") from None
    _check_unpacked_size(name, zf)
    try:
        bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, ValueError, zlib.error, NotImplementedError):
        raise _fail(name, "corrupt_workbook",
                    "a readable .xlsx workbook: its compressed data is damaged (a download or copy cut short?); "
                    "get a fresh copy of the file") from None
    if bad is not None:
        raise _fail(name, "corrupt_workbook", f"a readable .xlsx workbook: part {bad} of its zip container is "
                                              "damaged; get a fresh copy of the file")
    if "xl/workbook.xml" not in zf.namelist():
        raise _fail(name, "not_a_workbook", "an .xlsx workbook: the file is a zip archive but not an Excel "
                                            "workbook (a Word or OpenDocument file?)")
    try:
        # read-only mode streams the sheet XML (much faster than building the full worksheet model);
        # merged ranges, which it does not expose, are read from the same XML below
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=True)
        sheets = [(ws.title, getattr(ws, "_worksheet_path", None), ws) for ws in wb.worksheets]
        states = {ws.title: ws.sheet_state for ws in wb.worksheets}
        grids = []
        for title, xml_path, ws in sheets:
            values, formats = [], []
            ws.reset_dimensions()  # never pad rows to the declared dimension (A1:XFD1048576)
            n_cells = 0
            for row in ws.iter_rows():
                vals = [getattr(c, "value", None) for c in row]
                while vals and vals[-1] is None:
                    vals.pop()
                n_cells += max(len(vals), 1)
                if n_cells > MAX_CELLS:
                    raise _fail(name, "sheet_too_large",
                                f"a sheet of at most {MAX_CELLS:,} cells: sheet '{title}' has more (rows "
                                f"{len(values) + 1} and beyond); delete the empty or unused rows and columns")
                values.append(vals)
                formats.append([getattr(c, "number_format", "") or "" for c in row[:len(vals)]])
            while values and all(v is None for v in values[-1]):
                values.pop()
                formats.pop()
            xml = zf.read(xml_path).decode("utf-8", "ignore") if xml_path in zf.namelist() else ""
            # a merge reaching past the cells read (A1:XFD1048576) is cut at the sheet's last row and column
            n_rows, n_cols = max(len(values), 1), max((len(v) for v in values), default=1)
            merged = [(r0, c0, max(r0, min(r1, n_rows)), max(c0, min(c1, n_cols)))
                      for r0, c0, r1, c1 in (_range(m) for m in _MERGE.findall(xml))]
            grids.append(Grid(file=name, sheet=title, values=values, formats=formats, merged=merged,
                              hidden=states.get(title, "visible") != "visible", hidden_cols=_hidden_cols(xml)))
            if _FORMULA.search(xml):
                grids[-1].no_cached = _formulas_without_value(data, title, values)
        wb.close()
    except Unreadable:
        raise
    except Exception as exc:  # openpyxl raises many types for broken parts
        raise _fail(name, "corrupt_workbook", f"a readable .xlsx workbook; openpyxl could not read it "
                                              f"({type(exc).__name__}: {exc})") from None
    return grids


def _check_unpacked_size(name: str, zf: zipfile.ZipFile) -> None:
    """Refuse a workbook whose parts would unpack to too much (checked on the zip's directory,
    before anything is unpacked)."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _fail(name, "workbook_too_large",
                        f"an .xlsx workbook of ordinary data: part {info.filename} unpacks "
                        f"{info.file_size // max(info.compress_size, 1)} times its packed size (more than "
                        f"{MAX_RATIO}); the file is damaged or built to exhaust memory")
    if total > MAX_UNPACKED_BYTES:
        raise _fail(name, "workbook_too_large",
                    f"an .xlsx workbook whose parts unpack to at most {MAX_UNPACKED_BYTES // (1024 * 1024)} MB: this "
                    f"one unpacks to {total // (1024 * 1024)} MB; split it by year or school")


_MERGE = re.compile(r'<(?:\w+:)?mergeCell [^>]*ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
_FORMULA = re.compile(r"<(?:\w+:)?f[ >/]")


_COL = re.compile(r"<(?:\w+:)?col ([^>]*)/?>")


def _hidden_cols(xml: str) -> set[int]:
    """1-based indexes of the columns the sheet hides (``<col min max hidden="1">``)."""
    out: set[int] = set()
    for attrs in _COL.findall(xml[: xml.find("<sheetData") if "<sheetData" in xml else 20000]):
        if re.search(r'\bhidden="(?:1|true)"', attrs):
            lo = re.search(r'\bmin="(\d+)"', attrs)
            hi = re.search(r'\bmax="(\d+)"', attrs)
            if lo and hi:
                out.update(range(int(lo.group(1)), min(int(hi.group(1)), 16384) + 1))
    return out


def _range(ref: str) -> tuple[int, int, int, int]:
    from openpyxl.utils.cell import range_boundaries

    c0, r0, c1, r1 = range_boundaries(ref)
    return r0, c0, r1, c1


def _formulas_without_value(data: bytes, title: str, values: list[list[Any]]) -> set[tuple[int, int]]:
    """(row, col) of formula cells whose saved result is missing (read only for sheets with formulas)."""
    import openpyxl

    wbf = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=True)
    out: set[tuple[int, int]] = set()
    wsf = wbf[title]
    wsf.reset_dimensions()  # as in _read_xlsx: no padding to the declared dimension
    for r, row in enumerate(wsf.iter_rows(values_only=True), start=1):
        for c, v in enumerate(row, start=1):
            if isinstance(v, str) and v.startswith("=") and (
                    r > len(values) or c > len(values[r - 1]) or values[r - 1][c - 1] is None):
                out.add((r, c))
    wbf.close()
    return out


def _read_csv(name: str, data: bytes) -> Grid:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(name, "csv_encoding",
                    "a CSV file in UTF-8: this one is UTF-16 (Excel's 'Unicode Text'); save it from Excel as "
                    "'CSV UTF-8 (Comma delimited)'")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise Unreadable(ImportIssue(
            check="csv_encoding", file=name, row=line,  # no bytes shown: they may be part of a student's name
            expected=f"a CSV file in UTF-8: byte {exc.start} (line {line}) is not UTF-8, so the file was saved in "
                     "another encoding (Windows-1258, TCVN3 or Latin-1?); save it from Excel as "
                     "'CSV UTF-8 (Comma delimited)'")) from None
    if not text.strip():
        raise _fail(name, "empty_file", "a CSV file with a header row and data; this one has no text")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    values = [[(v if v.strip() != "" else None) for v in r] for r in rows]
    while values and all(v is None for v in values[-1]):
        values.pop()
    return Grid(file=name, sheet=None, values=values, formats=[[""] * len(r) for r in values])
