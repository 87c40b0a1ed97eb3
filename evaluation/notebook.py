"""What a notebook calls around its analysis: parameters in, data loaded, a section skipped.

Every notebook in ``notebooks/`` starts with the same two cells:

1. a cell tagged ``parameters`` holding one annotated literal per ``ReviewParams`` field plus
   ``stage_dir`` (its source is :func:`parameters_cell_source`, and a test keeps the two equal), so
   ``papermill --help-notebook`` documents every key and papermill knows where to inject values;
2. ``params = evaluation.notebook.parameters(globals())``, which validates those values into a
   frozen :class:`~evaluation.params.ReviewParams` and turns papermill's *warning* about an
   unknown key (``papermill NB OUT -f params.yaml`` with a misspelt key) into an error naming it.

A notebook whose input is absent (an optional table such as ``labour_demand``) calls
:func:`skip` (or :func:`require_tables`): it shows a note in both languages and stops the
notebook; the runner records the notebook as *skipped* with that reason instead of failed.
"""
from __future__ import annotations

import ast
import json
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from pydantic import BaseModel

from .params import ParamsError, ReviewParams, parse_params, unknown_key_message

#: The parameter every notebook has beyond ``ReviewParams``: where the runner collects evidence.
STAGE_DIR = "stage_dir"
_STAGE_DIR_LINE = 'stage_dir: str = ""  # where the runner collects evidence; empty: interactive, write nothing'

#: First line of the cell papermill injects (``papermill.translators.PythonTranslator.codify``).
_INJECTED_HEADER = "# Parameters"

_HEADER = (
    "# Tham số của kỳ sơ kết / Parameters of the review cycle.\n"
    "# Defaults as in evaluation/params.py (ReviewParams); `make review` and\n"
    "# `papermill NB OUT -f params/<cycle>.yaml` inject the values of a cycle file below this cell.\n"
)


# --------------------------------------------------------------------------- parameters cell
def _literal(value: Any) -> str:
    """A Python literal for a JSON-like value (strings in double quotes, diacritics kept)."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no literal for a default of type {type(value).__name__}: {value!r}")


def _annotation(tp: Any) -> tuple[str, list[Any] | None]:
    """The annotation written in the parameters cell for a field type, and its allowed values.

    Only forms that papermill's parameter inspector reads (``\\w[\\w_\\[\\],\\s]*``, optionally
    quoted) are produced; an optional value is written as the string ``"Optional[X]"`` so the
    kernel never evaluates it.
    """
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in (str, int, float, bool):
        return tp.__name__, None
    if origin is typing.Literal:
        kinds = {type(a) for a in args}
        if len(kinds) != 1:
            raise TypeError(f"mixed Literal {tp!r}")
        return kinds.pop().__name__, list(args)
    if origin is list:
        (inner,) = args
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return "list[dict]", None
        name, choices = _annotation(inner)
        return f"list[{name}]", choices
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            name, choices = _annotation(rest[0])
            return f'"Optional[{name}]"', choices
    raise TypeError(f"no parameters-cell annotation for {tp!r}: extend evaluation.notebook._annotation")


def _help(description: str | None, name: str, choices: list[Any] | None) -> str:
    text = (description or name.replace("_", " ")).strip()
    if choices:
        text += " (" + " or ".join(str(c) for c in choices) + ")"
    # papermill's inspector drops a line holding a second '=', so the help never contains one
    return " ".join(re.sub(r"\s*=\s*", " means ", text).split())


def parameters_cell_source() -> str:
    """The source of every notebook's ``parameters`` cell, generated from ``ReviewParams``.

    One line per field, ``name: type = default  # description``, then ``stage_dir``. Notebooks hold
    a copy of this text (``tests/test_notebooks.py`` checks that they do), so a field added to the
    schema is a failing test until the notebooks carry it.
    """
    lines = [_HEADER.rstrip("\n")]
    defaults = ReviewParams().to_yaml_dict()
    for name, field in ReviewParams.model_fields.items():
        annotation, choices = _annotation(field.annotation)
        lines.append(f"{name}: {annotation} = {_literal(defaults[name])}  # {_help(field.description, name, choices)}")
    lines.append(_STAGE_DIR_LINE)
    return "\n".join(lines)


# --------------------------------------------------------------------------- parameters()
def _assigned_names(source: str) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:  # pragma: no cover - papermill writes valid Python
        raise ParamsError(f"parameters cell is not valid Python: {exc}") from None
    names: list[str] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names.extend(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _last_cell(namespace: Mapping[str, Any], header: str) -> str | None:
    history = namespace.get("In")
    if not isinstance(history, list):
        return None
    for source in reversed(history):
        if isinstance(source, str) and source.lstrip().split("\n", 1)[0].strip() == header:
            return source
    return None


def _injected_keys(namespace: Mapping[str, Any]) -> list[str] | None:
    """Names assigned by the most recent papermill-injected cell, from IPython's input history.

    ``None`` when there is no input history (plain Python) or no injected cell (interactive run).
    """
    source = _last_cell(namespace, _INJECTED_HEADER)
    return None if source is None else _assigned_names(source)


def _edited_keys(namespace: Mapping[str, Any]) -> list[str]:
    """Names assigned by the most recent run of the notebook's own parameters cell (a researcher
    who edits ``min_cell`` there and mistypes it as ``min_cel`` gets an error, not the default)."""
    source = _last_cell(namespace, _HEADER.split("\n", 1)[0])
    return [] if source is None else _assigned_names(source)


def parameters(namespace: Mapping[str, Any]) -> ReviewParams:
    """The validated parameters of this notebook run, from the notebook's ``globals()``.

    Reads every ``ReviewParams`` field from ``namespace`` (the parameters cell, possibly overridden
    by papermill's injected cell) and validates them. Raises :class:`~evaluation.params.ParamsError`
    naming the key when papermill injected a key the schema does not know (papermill only warns),
    when a field is missing from the notebook, or when a value is invalid.
    """
    known = set(ReviewParams.model_fields) | {STAGE_DIR}
    for where, keys in (("injected parameters", _injected_keys(namespace) or []),
                        ("parameters cell", _edited_keys(namespace))):
        unknown = [k for k in dict.fromkeys(keys) if k not in known]
        if unknown:
            raise ParamsError(f"{where}: " + "; ".join(unknown_key_message(k, known) for k in unknown)
                              + f" (value {namespace.get(unknown[0])!r})")
    missing = [k for k in ReviewParams.model_fields if k not in namespace]
    if STAGE_DIR not in namespace:
        missing.append(STAGE_DIR)
    if missing:
        raise ParamsError("notebook parameters: missing " + ", ".join(f"'{k}'" for k in missing)
                          + "; the first code cell must be evaluation.notebook.parameters_cell_source()")
    if not isinstance(namespace[STAGE_DIR], str):
        raise ParamsError(f"notebook parameters: key '{STAGE_DIR}' must be a folder path string "
                          f"(value {namespace[STAGE_DIR]!r})")
    params = parse_params({k: namespace[k] for k in ReviewParams.model_fields}, source="notebook parameters")
    _install_skip_handler()
    set_display_language(params.lang)
    enable_inline_figures()
    return params


def stage_path(stage_dir: str) -> Path | None:
    """The run's staging folder, or ``None`` in an interactive run (``stage_dir == ""``).

    Notebooks write evidence there only when the runner gave one; it must exist.
    """
    if not stage_dir:
        return None
    p = Path(stage_dir)
    if not p.is_dir():
        raise ParamsError(f"notebook parameters: key '{STAGE_DIR}': folder {stage_dir!r} does not exist")
    return p


# --------------------------------------------------------------------------- data
def load_cohort(params: ReviewParams):
    """The cohort of this review: ``evaluation.data.load_cohort`` on ``params.data_path``.

    Generates the synthetic sample first when ``params.data`` is the default sample folder and it
    is missing (``evaluation.sample.ensure_sample``), so a notebook runs from a fresh clone.
    """
    from .data import load_cohort as _load
    from .sample import ensure_sample

    ensure_sample(params)
    return _load(params.data_path, years=params.years, unknown_share_warning=params.unknown_share_warning)


# --------------------------------------------------------------------------- skipping
class NotebookSkipped(Exception):
    """Raised by :func:`skip`: the rest of the notebook needs an input this run does not have."""


def _note(reason: str, reason_vi: str | None) -> None:
    text = f"**Bỏ qua phần còn lại / Rest of this notebook skipped.** {reason_vi + ' / ' if reason_vi else ''}{reason}"
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(text)
        return
    display(Markdown(text))


def skip(reason: str, *, reason_vi: str | None = None) -> NoReturn:
    """Show a visible note and stop the notebook; the runner records it as *skipped: reason*.

    In JupyterLab "Run all" stops at this cell with the note (no traceback); under papermill the
    runner reads the ``NotebookSkipped`` error and keeps the notebook without papermill's error
    banner. ``reason`` is English, ``reason_vi`` its Vietnamese version.
    """
    _note(reason, reason_vi)
    raise NotebookSkipped(reason)


def require_tables(cohort: Any, *names: str) -> None:
    """Skip the rest of the notebook unless every named optional table is in the cohort folder."""
    absent = [n for n in names if getattr(cohort, n, None) is None]
    if absent:
        tables = ", ".join(absent)
        skip(f"table {tables} is not in the data folder {getattr(cohort, 'folder', '')}".rstrip(),
             reason_vi=f"thư mục dữ liệu không có bảng {tables}")


def section_available(cohort: Any, *names: str) -> bool:
    """True when every named optional table is in the cohort; otherwise show a visible note in
    both languages that this section is skipped, and return False (the notebook goes on, unlike
    :func:`require_tables`). Use it as ``if nb.section_available(cohort, "labour_demand"):``."""
    absent = [n for n in names if getattr(cohort, n, None) is None]
    if not absent:
        return True
    tables = ", ".join(absent)
    text = (f"**Bỏ qua phần này / Section skipped.** Thư mục dữ liệu không có bảng {tables} / "
            f"table {tables} is not in the data folder {getattr(cohort, 'folder', '')}".rstrip() + ".")
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(text)
    else:
        display(Markdown(text))
    return False


def _skip_traceback(shell, etype, value, tb, tb_offset=None):  # noqa: ARG001 - IPython's signature
    # IPython hands a custom exception to this handler and shows nothing itself: send the error
    # (ename NotebookSkipped, one line instead of a traceback) so papermill and the runner see it.
    shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])


def _install_skip_handler() -> None:
    """In IPython, show a skip as one line instead of a traceback (the note is already shown)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((NotebookSkipped,), _skip_traceback)


# --------------------------------------------------------------------------- evidence
def publish(table: Any, stage_dir: str) -> Any:
    """Check an evidence table, show it, and write it into the run's staging folder.

    In an interactive run (``stage_dir == ""``) nothing is written. ``table`` is an
    ``evaluation.evidence.EvidenceTable``; it is checked against the output contract either way,
    so an interactive run fails where the runner would. Returns the table's data for display.
    """
    from .evidence import write_table

    table.check()
    stage = stage_path(stage_dir)
    if stage is not None:
        write_table(table, stage)
    try:
        from IPython.display import Markdown, display

        display(Markdown(f"**{table.title_vi}** / *{table.title_en}* (`{table.id}`)"))
    except ImportError:  # pragma: no cover
        pass
    return table.data


def show_figure(fig: Any, stage_dir: str, name: str) -> Any:
    """Show a figure and, in a runner's run, save it as ``figures/<name>.png`` in the staging folder."""
    from .figures import save_figure

    stage = stage_path(stage_dir)
    if stage is not None:
        save_figure(fig, stage, name)
    return fig


# --------------------------------------------------------------------------- sections
def publish_section(result: Any, stage_dir: str) -> None:
    """Write a section's evidence tables and figures into the run's staging folder (nothing in an
    interactive run) and show its notes (the tables and figures are shown by the cells after it).

    ``result`` is an :class:`evaluation.sections.SectionResult`: every table is checked against the
    output contract (so an interactive run fails where the runner would) and written with
    ``evidence.write_table``; every figure is saved as ``figures/<name>.png``.
    """
    from .evidence import write_table
    from .figures import save_figure

    stage = stage_path(stage_dir)
    for table in result.tables.values():
        table.check()
        if stage is not None:
            write_table(table, stage)
    if stage is not None:
        for name, fig in result.figures.items():
            save_figure(fig, stage, name)
    for vi, en in result.notes:
        _show_markdown(f"{vi} / *{en}*")


def show_table(result: Any, table_id: str, *, lang: str | None = None) -> Any:
    """The title of one of a section's evidence tables, then the table formatted for reading in
    the run's language (:func:`formatted`): rates as %, effects in percentage points, one decimal,
    codes labelled. The unformatted data stay in ``result.tables[table_id].data``."""
    table = result.tables[table_id]
    _show_markdown(f"**{table.title_vi}** / *{table.title_en}* (`{table.id}`)")
    return formatted(table, lang=lang)


# --------------------------------------------------------------------------- display helpers
#: Language of the notebook's displays; set from ``params.lang`` by :func:`parameters`.
_DISPLAY = {"lang": "vi"}
#: Resolution of figures shown inline (the saved PNGs use ``figures.DPI``).
INLINE_DPI = 100


def set_display_language(lang: str) -> None:
    """Show tables with labels and number formats of ``lang`` (``vi`` or ``en``)."""
    from . import i18n

    _DISPLAY["lang"] = i18n.check_lang(lang)


def _figure_png(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=INLINE_DPI, facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def enable_inline_figures(formatter: Any = None) -> bool:
    """Make a matplotlib ``Figure`` display as an image (``image/png``, stored in the executed
    notebook) instead of ``<Figure size 1000x400 with 2 Axes>``. The review's figures are made
    without pyplot, so IPython's inline backend never registers them; this registers them with
    the running shell's display formatter (or ``formatter``). Returns False outside IPython."""
    from matplotlib.figure import Figure

    if formatter is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython is a dependency
            return False
        shell = get_ipython()
        if shell is None:
            return False
        formatter = shell.display_formatter
    formatter.formatters["image/png"].for_type(Figure, _figure_png)
    return True


class Formatted:
    """A table formatted for reading: an HTML table in JupyterLab, aligned text elsewhere;
    ``.frame`` holds the strings."""

    def __init__(self, frame: Any, caption: str = "", source_columns: list[str] | None = None) -> None:
        self.frame = frame
        self.caption = caption
        self.source_columns = list(source_columns) if source_columns is not None else list(frame.columns)

    def __getitem__(self, columns: str | list[str]) -> "Formatted":
        """The same table with only ``columns`` (named as in the data: ``t[["year", "rate"]]``)."""
        cols = [columns] if isinstance(columns, str) else list(columns)
        unknown = [c for c in cols if c not in self.source_columns]
        if unknown:
            raise KeyError(f"column(s) {', '.join(map(str, unknown))} not in this table; it has "
                           f"{', '.join(self.source_columns)}")
        idx = [self.source_columns.index(c) for c in cols]
        return Formatted(self.frame.iloc[:, idx], self.caption, cols)

    def _repr_html_(self) -> str:
        styler = self.frame.style.hide(axis="index")
        if self.caption:
            styler = styler.set_caption(self.caption)
        return styler.set_table_styles([{"selector": "td", "props": "text-align: right;"}]).to_html()

    def __repr__(self) -> str:
        text = self.frame.to_string(index=False)
        return (self.caption + "\n" + text) if self.caption else text


def formatted(obj: Any, *, lang: str | None = None, table_id: str = "", formats: Mapping[str, str] | None = None,
              max_rows: int | None = None) -> Formatted:
    """Any table of the review formatted for reading (``evaluation.report.format_frame``): an
    ``EvidenceTable``, a results object (its ``to_frame(pp=True)``: estimate, SE, 95 % CI and
    p-value in percentage points) or a data frame."""
    import pandas as pd

    from .report import format_frame

    lang = lang or _DISPLAY["lang"]
    caption = ""
    if hasattr(obj, "data") and hasattr(obj, "id"):  # an EvidenceTable
        table_id, caption = obj.id, getattr(obj, f"title_{lang}", "")
        frame = obj.data
    elif hasattr(obj, "to_frame") and not isinstance(obj, pd.DataFrame | pd.Series):  # a results object
        frame = compact(obj)
        if "estimate_pp" in frame.columns:  # percentage points, one decimal
            formats = {**{c: "pp" for c in ("estimate_pp", "std_error", "ci_low", "ci_high")}, **(formats or {})}
    else:
        frame = pd.DataFrame(obj)
    if max_rows is not None and len(frame) > max_rows:
        frame = frame.head(max_rows)
    frame = frame.reset_index(drop=frame.index.name is None and not isinstance(frame.index, pd.MultiIndex))
    return Formatted(format_frame(frame, lang, table_id=table_id, formats=formats), caption, list(frame.columns))


def compact(results: Any):
    """A results object as one row per term: term, estimate and SE in percentage points, 95 %
    interval, p-value, and the number of observations and clusters — never the raw object."""
    import pandas as pd

    try:
        frame, in_pp = results.to_frame(pp=True), True
    except TypeError:  # a results object without a percentage-point view: keep its own units
        frame, in_pp = results.to_frame(), False
    frame = pd.DataFrame(frame).copy()
    if "term" not in frame.columns:
        frame = frame.rename_axis("term").reset_index()
    keep = [c for c in ("term", "estimate_pp", "estimate", "std_error", "ci_low", "ci_high", "p_value") if c in frame]
    out = frame[keep].rename(columns={"estimate": "estimate_pp"} if in_pp else {})
    info = getattr(results, "info", None) or {}
    for key in ("n_obs", "n_clusters"):
        if key in info:
            out[key] = info[key]
    return out


def show(obj: Any, *, lang: str | None = None) -> Any:
    """Display anything a section returns the way a reader wants it: a figure as an image, an
    evidence table, results object or data frame formatted (:func:`formatted`), text as text."""
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        enable_inline_figures()
        return obj
    if isinstance(obj, str):
        _show_markdown(obj)
        return None
    return formatted(obj, lang=lang)


def show_all(shown: Mapping[Any, Any], *, lang: str | None = None) -> None:
    """Display each item of a mapping a section returns (by level, or by (level, group)) under its
    key: results objects as compact tables, and an estimate the data could not give as its reason
    in words (:class:`evaluation.status.NotEstimable`), never a raw object or a traceback."""
    lang = lang or _DISPLAY["lang"]
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency
        display = print
    for key, obj in shown.items():
        title = " · ".join(map(str, key)) if isinstance(key, tuple) else str(key)
        reason = getattr(obj, f"reason_{lang}", None)
        if reason is not None and isinstance(obj, Exception):
            _show_markdown(f"**{title}**: {reason}")
            continue
        _show_markdown(f"**{title}**")
        import pandas as pd

        from .results import Results

        if isinstance(obj, Mapping):  # a record of facts (e.g. the minimum detectable effect)
            obj = pd.DataFrame([dict(obj)])
        if isinstance(obj, (Results, pd.DataFrame, str)):
            shown_obj = show(obj, lang=lang)
            if shown_obj is not None:
                display(shown_obj)
        else:  # an object with its own display (a research table, a decomposition)
            display(obj)


def _show_markdown(text: str) -> None:
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(text)
        return
    display(Markdown(text))


def evidence_folder(params: ReviewParams, stage_dir: str) -> Path:
    """Where the summary reads the evidence: the run's staging folder (its index brought up to
    date), or, in an interactive run, the last bundle at ``params.out``; skips when there is none."""
    from .evidence import INDEX_NAME, build_index

    stage = stage_path(stage_dir)
    if stage is not None:
        build_index(stage)
        return stage
    if (params.out_path / "evidence" / INDEX_NAME).is_file():
        return params.out_path
    skip(f"no evidence bundle at {params.out_path} yet: run `make review` first",
         reason_vi=f"chưa có bộ bằng chứng tại {params.out_path}: hãy chạy `make review` trước")


def bundle_is_synthetic(folder: str | Path) -> bool:
    """True when any evidence table in the folder was made from synthetic data."""
    from .evidence import read_index

    return any(e["synthetic"] for e in read_index(folder))


def evidence_index(folder: str | Path, lang: str):
    """The evidence tables of a bundle or staging folder: id, title in ``lang`` and rows."""
    import pandas as pd

    from .evidence import read_index

    return pd.DataFrame([(e["id"], e[f"title_{lang}"], e["rows"]) for e in read_index(folder)],
                        columns=["id", "title", "rows"])


def read_evidence(folder: str | Path, table_id: str, *, raw: bool = False, lang: str | None = None):
    """One evidence table of a bundle or staging folder, formatted for reading in the run's
    language (:func:`formatted`, with the column formats of the bundle's index); ``raw=True``
    gives the data as ``evidence.read_table`` reads it."""
    from .evidence import read_index, read_table

    data = read_table(folder, table_id)
    if raw:
        return data
    entry = next((e for e in read_index(folder) if e["id"] == table_id), {})
    lang = lang or _DISPLAY["lang"]
    return Formatted(formatted(data, lang=lang, table_id=table_id,
                               formats={c["name"]: c["format"] for c in entry.get("columns", [])}).frame,
                     entry.get(f"title_{lang}", ""), list(data.columns))
