"""Parameters of a review cycle: one YAML file per cycle, validated here.

Parameters flow one way: ``params/<cycle>.yaml`` -> runner -> papermill -> ``ReviewParams``.
Unknown keys and wrong types are errors that name the key.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .paths import ROOT, resolve


class ParamsError(ValueError):
    """A parameters file or value that does not fit the schema; the message names the key."""


def _plain_text(v: str) -> str:
    """Text that reaches the evidence and the reports: no formula start (a spreadsheet would run
    it) and no control character (a workbook or Word file cannot hold one)."""
    from .contract import CONTROL_CHARACTERS, FORMULA_STARTS

    if v.startswith(FORMULA_STARTS):
        raise ValueError("must not start with =, +, -, @, a tab or a line break (a spreadsheet opening the "
                         "evidence would run it as a formula)")
    if CONTROL_CHARACTERS.search(v):
        raise ValueError("must not hold control characters (invisible characters a workbook or Word file cannot "
                         "hold); retype it")
    return v


def _not_true_or_false(v: Any) -> Any:
    """A number given as true/false (YAML reads yes, no, on, off as booleans) is not taken as 1 or 0:
    ``min_cell: on`` would turn suppression off."""
    if isinstance(v, bool) or (isinstance(v, list) and any(isinstance(x, bool) for x in v)):
        raise ValueError("must be a number, not true or false (YAML reads yes, no, on and off as true or false)")
    return v


class TargetOverride(BaseModel):
    """One target row given in the parameters (same meaning as a row of targets.csv)."""

    model_config = ConfigDict(extra="forbid")
    indicator: str
    level: Literal["THCS", "THPT"]
    area_type: Literal["general", "disadvantaged"] = "general"
    year_from: int
    year_to: int
    target: float | None = Field(default=None, ge=0, le=1)
    counted_destinations: str = ""
    target_set: str = "user"
    source: str = "parameters"
    standing: str = "user"
    note: str = ""

    @field_validator("indicator", "counted_destinations", "target_set", "source", "standing", "note")
    @classmethod
    def _text(cls, v: str) -> str:
        return _plain_text(v)

    @field_validator("year_from", "year_to", "target", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        return _not_true_or_false(v)


class ReviewParams(BaseModel):
    """The validated parameters of one review cycle."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cycle: str = Field("cang_long_2018_2025", description="name of the review cycle, used in file names")
    title_vi: str = Field("Sơ kết phân luồng và đào tạo nghề sau THCS, THPT huyện Càng Long 2018-2025", description="title of the review in Vietnamese")
    title_en: str = Field("Interim review of streaming and vocational training after THCS and THPT, Càng Long district, 2018-2025", description="title of the review in English")
    district: str = Field("Huyện Càng Long", description="district (or other area) under review")
    province: str = Field("Tỉnh Trà Vinh", description="province of the district")
    data: str = Field("data/sample", description="cohort data folder; relative paths are against the repository root")
    out: str = Field("output/cang_long_2018_2025", description="evidence bundle folder")
    year_start: int = Field(2018, ge=1990, le=2100, description="first graduation year of the cycle")
    year_end: int = Field(2025, ge=1990, le=2100, description="last graduation year of the cycle")
    levels: list[Literal["THCS", "THPT"]] = Field(default_factory=lambda: ["THCS", "THPT"], description="school levels whose graduates are reviewed")
    lang: Literal["vi", "en"] = Field("vi", description="language of the human report")
    min_cell: int = Field(5, ge=1, description="smallest cell (students) shown in a published table")
    geography: Literal["pre2025", "post2025"] = Field("pre2025", description="communes before or after 1/7/2025")
    target_sets: list[str] = Field(default_factory=lambda: ["national_522", "tra_vinh_26_ct_tu"],
                                   description="shipped target sets in force")
    targets_file: str | None = Field(None, description="a CSV of targets (columns as reference_data/targets.csv)")
    targets: list[TargetOverride] = Field(default_factory=list, description="target rows that override the shipped ones")
    unknown_in_denominator: bool = Field(True, description="keep 'unknown' destinations in the uptake denominator")
    unknown_share_warning: float = Field(0.10, ge=0, le=1, description="warn when the share of unknown destinations exceeds this")
    control_group: Literal["notyet", "never"] = Field("notyet", description="comparison group of the staggered-adoption estimator")
    bootstrap_reps: int = Field(999, ge=0, description="wild/multiplier bootstrap replications (0 = none)")
    seed: int = Field(20251, description="random seed of every bootstrap")
    khmer_commune_threshold: float = Field(0.15, ge=0, le=1, description="a commune with at least this Khmer share counts as a Khmer commune")
    projection_years: list[int] = Field(default_factory=lambda: [2025, 2030], description="years the uptake trend is projected to")
    sample_seed: int = Field(2025, description="seed of the synthetic sample generated when data is the sample folder")
    previous_bundle: str | None = Field(None, description="evidence bundle of the district's previous review (a folder "
                                        "'run' wrote); the report then says how each headline indicator changed since")

    @field_validator("cycle")
    @classmethod
    def _cycle_is_a_name(cls, v: str) -> str:
        if not v or any(ch in v for ch in "/\\ "):
            raise ValueError("must be a file-name-safe name without spaces or slashes")
        return v

    @field_validator("cycle", "title_vi", "title_en", "district", "province")
    @classmethod
    def _not_a_formula(cls, v: str) -> str:
        return _plain_text(v)

    @field_validator("year_start", "year_end", "min_cell", "unknown_share_warning", "bootstrap_reps", "seed",
                     "khmer_commune_threshold", "projection_years", "sample_seed", mode="before")
    @classmethod
    def _a_number(cls, v: Any) -> Any:
        return _not_true_or_false(v)

    @model_validator(mode="after")
    def _years_in_order(self) -> "ReviewParams":
        if self.year_end < self.year_start:
            raise ValueError(f"year_end ({self.year_end}) is before year_start ({self.year_start})")
        return self

    # -- derived values (computed, never typed into a parameters file) -------------------
    @property
    def years(self) -> list[int]:
        return list(range(self.year_start, self.year_end + 1))

    @property
    def data_path(self) -> Path:
        return resolve(self.data)

    @property
    def out_path(self) -> Path:
        return resolve(self.out)

    @property
    def previous_bundle_path(self) -> Path | None:
        return resolve(self.previous_bundle) if self.previous_bundle else None

    @property
    def targets_path(self) -> Path | None:
        return resolve(self.targets_file) if self.targets_file else None

    def title(self) -> str:
        return self.title_vi if self.lang == "vi" else self.title_en

    def to_yaml_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def closest_key(key: str, known: Iterable[str] | None = None) -> str | None:
    """The valid parameter key closest to a mistyped ``key`` (``min_cel`` -> ``min_cell``), or None."""
    import difflib

    pool = list(known) if known is not None else list(ReviewParams.model_fields)
    hit = difflib.get_close_matches(str(key), pool, n=1, cutoff=0.6)
    if not hit:  # a key typed in another case or with dashes: compare normalised spellings
        norm = {k.lower().replace("-", "_"): k for k in pool}
        return norm.get(str(key).lower().replace("-", "_").replace(" ", "_"))
    return hit[0]


def unknown_key_message(key: str, known: Iterable[str] | None = None) -> str:
    """"unknown parameter 'min_cel'; did you mean 'min_cell'?" (or the list of valid keys)."""
    pool = list(known) if known is not None else list(ReviewParams.model_fields)
    near = closest_key(key, pool)
    if near is not None:
        return f"unknown parameter '{key}'; did you mean '{near}'?"
    return f"unknown parameter '{key}'; valid keys: {', '.join(pool)}"


def _format_errors(err: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid parameters"]
    for e in err.errors():
        key = ".".join(str(x) for x in e["loc"]) or "(file)"
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            lines.append(f"  - key '{key}': {unknown_key_message(key)} (value {value!r})")
        else:
            lines.append(f"  - key '{key}': {e['msg']} (value {value!r})")
    return "\n".join(lines)


def parse_params(values: dict[str, Any], source: str = "parameters") -> ReviewParams:
    """Validate a mapping of parameters; raise ``ParamsError`` naming every bad key."""
    try:
        return ReviewParams(**values)
    except ValidationError as err:
        raise ParamsError(_format_errors(err, source)) from None


def read_params_file(path: str | Path) -> dict[str, Any]:
    """The raw mapping of a parameters YAML file (errors name the file)."""
    p = resolve(path, base=Path.cwd()) if not Path(path).is_absolute() else Path(path)
    if not p.is_file():
        p2 = resolve(path)
        if p2.is_file():
            p = p2
        else:
            raise ParamsError(f"{path}: parameters file not found")
    values = read_yaml_mapping(p, expected="a mapping of parameter keys")
    if not values:  # every default is Càng Long's sample: an empty file would silently review the sample
        raise ParamsError(f"{path}: the parameters file is empty; copy params/cang_long_2018_2025.yaml and set at "
                          "least cycle, district, data and out")
    return values


#: Largest parameters or grid file read (bytes): a review's parameters are a few KB.
MAX_YAML_BYTES = 1_000_000
#: Most nodes a YAML document may hold once its aliases are expanded. Aliases (``*name``) let
#: a 1 KB file stand for billions of values ("billion laughs"); a parameters file needs a few
#: hundred.
MAX_YAML_NODES = 10_000


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (YAML says keys are
    unique; PyYAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: SafeLoader's own message follows
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise ParamsError(f"{self.name}, line {line}: key '{key}' is given twice (first on line {first}); "
                                      "keep one")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded_nodes(node, limit: int) -> int:
    """Nodes of the document with every alias expanded (stops counting past ``limit``)."""
    memo: dict[int, int] = {}

    def size(n) -> int:
        if id(n) in memo:
            return memo[id(n)]
        memo[id(n)] = limit + 1  # a recursive alias counts as too large
        if isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(c) for c in n.value)
        elif isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        else:
            total = 1
        memo[id(n)] = total = min(total, limit + 1)
        return total

    return size(node)


def read_yaml_mapping(path: Path, *, expected: str) -> dict[str, Any]:
    """The mapping a YAML file holds (a parameters or grid file); ``ParamsError`` naming the file
    when it is not valid YAML or not a mapping (``expected`` says what it should be).

    Safe loading only (no Python objects), no key twice in a mapping, at most
    ``MAX_YAML_BYTES`` bytes and ``MAX_YAML_NODES`` values once aliases are expanded."""
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise ParamsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if size > MAX_YAML_BYTES:
        raise ParamsError(f"{path}: {size} bytes; a parameters or grid file is at most {MAX_YAML_BYTES} bytes")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        loader = _StrictLoader(text)  # its reader refuses control characters here (a binary file given)
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {str(exc).replace('<unicode string>', str(path))}") from None
    loader.name = str(path)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_nodes(node, MAX_YAML_NODES) > MAX_YAML_NODES:
            raise ParamsError(f"{path}: its aliases (*name) expand to more than {MAX_YAML_NODES} values; "
                              "write the values out instead of nesting aliases")
        raw = (loader.construct_document(node) if node is not None else None) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ParamsError(f"{path}: nested too deeply to be a parameters or grid file") from None
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected {expected}, got {type(raw).__name__}")
    return raw


def load_params(path: str | Path | None = None, **overrides: Any) -> ReviewParams:
    """Load and validate a parameters file; keyword overrides (``data=``, ``out=``, ...) win.

    Overrides that are ``None`` are ignored, so command-line options can be passed through.
    """
    values = read_params_file(path) if path is not None else {}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return parse_params(values, source=str(path) if path is not None else "parameters")


DEFAULT_PARAMS_FILE = ROOT / "params" / "cang_long_2018_2025.yaml"
