"""Smoke test of benchmarks/: ``run.py --quick`` runs every part on tiny sizes and writes its table.

Only the structure is checked, never a timing: the figures of a quick run
mean nothing, and timings belong in ``make bench``. A part whose reference
(micrograd, PyTorch, scikit-learn) is not installed must say "skipped", and
one whose reference is installed must have measured it.
"""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"
ROW_KEYS = {"section", "figure", "unit", "bptutor", "reference", "reference_name", "ratio", "target", "met",
            "note"}
#: section -> the module its reference comes from (None: no reference)
REFERENCES = {"1": "micrograd", "2": "torch", "3": None, "4": "sklearn", "5": None, "6": None, "7": None,
              "8": "torch", "9": "torch", "10": "torch"}

pytestmark = pytest.mark.slow  # about ten seconds: kernels, PyTorch and matplotlib start up


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results.json"
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(out)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout, json.loads(out.read_text())


def test_every_part_reports_rows_of_the_same_shape(quick):
    _, results = quick
    rows = results["rows"]
    assert {r["section"].split()[0] for r in rows} == set(REFERENCES)
    for r in rows:
        assert ROW_KEYS <= set(r), r
        assert not r.get("error"), r["note"]
        assert r["met"] in (True, False, None)
    assert results["environment"]["quick"] is True
    assert set(results["environment"]) >= {"python", "cpus", "blas_threads", "load_average_before",
                                           "load_average_after", "versions"}


def test_ratio_and_met_follow_from_the_figures(quick):
    for r in quick[1]["rows"]:
        if r["bptutor"] is not None and r["reference"]:
            assert r["ratio"] == pytest.approx(r["bptutor"] / r["reference"])
        else:
            assert r["ratio"] is None
        target = r["target"]
        if target is None:
            assert r["met"] is None
            continue
        value = r["ratio"] if target["of"] == "ratio" else r["bptutor"]
        if value is not None and not r.get("error") and "FAILED" not in r["note"]:
            assert r["met"] is (value <= target["max"]), r


@pytest.mark.parametrize("section", [s for s, module in REFERENCES.items() if module])
def test_a_reference_is_measured_exactly_when_it_is_installed(quick, section):
    rows = [r for r in quick[1]["rows"] if r["section"].startswith(section + " ")]
    try:
        installed = importlib.util.find_spec(REFERENCES[section]) is not None
    except ImportError:
        installed = False
    for r in rows:
        if r.get("skipped"):
            assert not installed and "not installed" in r["note"], r
    if installed:
        assert any(r["reference"] is not None for r in rows), rows
    else:
        assert any(r.get("skipped") for r in rows)


def test_the_table_is_printed_with_its_columns(quick):
    stdout, results = quick
    header = next(line for line in stdout.splitlines() if line.startswith("| figure"))
    assert [c.strip() for c in header.strip("|").split("|")] == ["figure", "bptutor", "reference", "ratio",
                                                                 "target", "met?"]
    assert results["table"] in stdout
    assert len(results["table"].splitlines()) == 2 + len(results["rows"])


def test_quick_mode_writes_no_results_unless_asked(tmp_path):
    # --only engine keeps this fast; with --quick and no --out nothing is written anywhere
    before = (ROOT / "benchmarks" / "results.json").stat().st_mtime_ns \
        if (ROOT / "benchmarks" / "results.json").exists() else None
    proc = subprocess.run([sys.executable, str(RUN), "--quick", "--only", "engine"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "written to" not in proc.stdout
    after = (ROOT / "benchmarks" / "results.json").stat().st_mtime_ns \
        if (ROOT / "benchmarks" / "results.json").exists() else None
    assert before == after
