from __future__ import annotations

import pytest
import yaml

from evaluation.params import ParamsError, ReviewParams, load_params, parse_params
from evaluation.paths import PARAMS_DIR, ROOT


def test_shipped_params_file_is_valid_and_lists_every_key():
    path = PARAMS_DIR / "cang_long_2018_2025.yaml"
    p = load_params(path)
    assert p.years == list(range(2018, 2026))
    assert p.data_path == ROOT / "data" / "sample"
    raw = yaml.safe_load(path.read_text())
    assert set(raw) == set(ReviewParams.model_fields), "the cycle file should spell out every parameter"


def test_unknown_key_is_an_error_naming_the_key(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("cycle: x\nmin_cel: 3\n")
    with pytest.raises(ParamsError, match="min_cel"):
        load_params(f)


def test_wrong_type_names_key_and_value():
    with pytest.raises(ParamsError) as exc:
        parse_params({"min_cell": "five", "lang": "fr"})
    msg = str(exc.value)
    assert "min_cell" in msg and "'five'" in msg and "lang" in msg and "'fr'" in msg


def test_command_line_overrides_win_and_none_is_ignored(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("data: a\nout: b\n")
    p = load_params(f, data="elsewhere", out=None)
    assert p.data == "elsewhere" and p.out == "b"


def test_years_must_be_in_order():
    with pytest.raises(ParamsError, match="year_end"):
        parse_params({"year_start": 2025, "year_end": 2018})


def test_target_override_is_validated():
    with pytest.raises(ParamsError, match="target"):
        parse_params({"targets": [{"indicator": "voc_uptake_target", "level": "THCS",
                                   "year_from": 2026, "year_to": 2030, "target": 40}]})
    p = parse_params({"targets": [{"indicator": "voc_uptake_target", "level": "THCS",
                                   "year_from": 2026, "year_to": 2030, "target": 0.4}]})
    assert p.targets[0].target == 0.4


def test_a_mistyped_key_names_it_and_the_closest_valid_key():
    from evaluation.params import ParamsError, closest_key, parse_params

    assert closest_key("min_cel") == "min_cell"
    assert closest_key("Bootstrap-Reps") == "bootstrap_reps"
    assert closest_key("zzz") is None
    with pytest.raises(ParamsError, match=r"key 'min_cel': unknown parameter 'min_cel'; did you mean 'min_cell'\?"):
        parse_params({"min_cel": 3})
    with pytest.raises(ParamsError, match="valid keys: cycle, title_vi"):
        parse_params({"zzz": 3})


def test_a_mistyped_key_in_the_notebooks_own_parameters_cell_is_an_error():
    """Edit the parameters cell in JupyterLab, mistype min_cell: the next cell fails naming both."""
    from evaluation import notebook as enb
    from evaluation.params import ParamsError, ReviewParams

    cell = enb.parameters_cell_source() + "\nmin_cel: int = 3\n"
    ns = {**ReviewParams().to_yaml_dict(), "stage_dir": "", "min_cel": 3, "In": ["", cell, "params = ..."]}
    with pytest.raises(ParamsError, match=r"parameters cell: unknown parameter 'min_cel'; did you mean 'min_cell'\?"):
        enb.parameters(ns)
    ns["In"].append(enb.parameters_cell_source())
    assert enb.parameters(ns).min_cell == 5
LAUGHS = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"]
                   + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)]) + "\n"


def test_nested_aliases_are_refused_before_they_expand(tmp_path):
    import resource
    import time

    f = tmp_path / "laughs.yaml"
    f.write_text(LAUGHS, encoding="utf-8")
    assert f.stat().st_size < 1024
    t0 = time.perf_counter()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ParamsError, match=r"laughs.yaml: its aliases \(\*name\) expand to more than 10000 values"):
        load_params(f)
    assert time.perf_counter() - t0 < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 100_000  # KB


def test_a_few_aliases_are_still_fine(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("levels: &l [THCS, THPT]\nprojection_years: &y [2025, 2030]\n", encoding="utf-8")
    assert load_params(f).levels == ["THCS", "THPT"]


def test_recursive_alias_is_refused(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("levels: &l [THCS, *l]\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="expand to more than"):
        load_params(f)


def test_duplicate_key_is_an_error_naming_both_lines(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("min_cell: 5\ncycle: x\nmin_cell: 1\n", encoding="utf-8")
    with pytest.raises(ParamsError) as e:
        load_params(f)
    assert str(e.value) == f"{f}, line 3: key 'min_cell' is given twice (first on line 1); keep one"


def test_python_objects_and_oversized_files_are_refused(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("cycle: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(f)
    f.write_text("cycle: x\n" + "#" * 1_100_000 + "\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="a parameters or grid file is at most 1000000 bytes"):
        load_params(f)


def test_an_empty_parameters_file_is_refused(tmp_path):
    """Every default is the Càng Long sample's: an empty (or comments-only) file would review the sample silently."""
    from evaluation.params import ParamsError, load_params

    for text in ("", "# just a comment\n", "---\n"):
        f = tmp_path / "new_district.yaml"
        f.write_text(text, encoding="utf-8")
        with pytest.raises(ParamsError, match="new_district.yaml: the parameters file is empty"):
            load_params(f)
