"""The training benchmark runs end to end and prints its tables.

Benchmarks are not tests: nothing here checks a timing, only that the script
runs on a small slice of Adult and prints what it promises.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_training.py"
QUICK_ROWS = 1000


@pytest.fixture(scope="module")
def quick_output():
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--rows", str(QUICK_ROWS)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def table_rows(output, title):
    """Return the cells of each row of the table printed under ``title``."""
    lines = output.split(title, 1)[1].splitlines()
    # lines[0] ends the title, lines[1] is the header and lines[2] the rule.
    rows = []
    for line in lines[3:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


@pytest.mark.parametrize(
    "label", ["CPU:", "Python ", "numpy ", "threadpool: ", "OPENBLAS_CORETYPE="]
)
def test_bench_training_header(quick_output, label):
    assert re.search(rf"^{re.escape(label)}", quick_output, flags=re.MULTILINE)


def test_bench_training_data_line(quick_output):
    assert (
        f"Data: Adult pipeline output, {QUICK_ROWS} training rows, 16281 test rows"
        in quick_output
    )


def test_bench_training_training_table(quick_output):
    rows = table_rows(quick_output, "Training time per epoch")

    assert len(rows) == 1
    input_format, batch_size, *_, ours_accuracy, theirs_accuracy, _ = rows[0]
    assert input_format == "csr"
    assert batch_size == "32"
    assert 0.5 < float(ours_accuracy) <= 1.0
    assert 0.5 < float(theirs_accuracy) <= 1.0


def test_bench_training_predict_table(quick_output):
    rows = table_rows(quick_output, "predict_proba on the test set")

    assert [row[:2] for row in rows] == [["csr", "16281"]]
    assert len(rows[0]) == 11
    # Throughput, CPU and interleaved: ours, scikit-learn's, then their ratio.
    for ours, theirs, ratio in zip(*[iter(rows[0][2:])] * 3, strict=True):
        assert float(ratio) == pytest.approx(
            float(ours) / float(theirs), abs=0.01, rel=0.02
        )


def test_bench_training_memory_table(quick_output):
    rows = table_rows(quick_output, "Peak memory of one fit")

    assert len(rows) == 1
    assert rows[0][0] == "csr"
    assert float(rows[0][1]) > 0
    assert float(rows[0][2]) > 0


def test_bench_training_scaling_table(quick_output):
    rows = table_rows(quick_output, "Scaling of skmlp with rows")

    assert [row[:2] for row in rows] == [
        ["1x", str(QUICK_ROWS)],
        ["2x", str(2 * QUICK_ROWS)],
    ]
