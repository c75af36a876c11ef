"""benchmarks/bench.py still runs against the package and writes the file issue #8 asks for; its numbers are
measured, not checked here (speed targets live in the benchmark, not in tests)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

from esc.config import PROJECT_ROOT

BENCH = PROJECT_ROOT / "benchmarks" / "bench.py"


def test_the_bench_writes_a_row_of_finite_ratios_per_model(tmp_path):
    out = tmp_path / "cpu.json"
    options = ["--only", "ast_kws", "--calib-clips", "4", "--population", "2", "--repeats", "1"]
    result = subprocess.run(
        [sys.executable, str(BENCH), *options, "--fused-fake-quant", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads(out.read_text())
    assert measured["device"].startswith("cpu:") and [row["model"] for row in measured["models"]] == [
        "ast_kws"
    ]
    (row,) = measured["models"]
    for key in ("fq_over_float", "evals_per_s", "batched_over_loop", "float_ms", "statistics_s"):
        assert math.isfinite(row[key]) and row[key] > 0, key
    assert row["clips"] == 4 and row["fused_fake_quant"] is False
