import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skmlp import ScratchMLPClassifier
from skmlp._cli.errors import with_column_names
from skmlp.persistence import load_model, save_model

TIMEOUT_SECONDS = 300
EPOCH_ROW = re.compile(r"^\s+\d+\s+\d+\.\d+")


def _double_values(X):
    """A function of this test module, which the trusted types do not contain."""
    return 2 * X


def run_skmlp(*args, cwd):
    """Run ``python -m skmlp ARGS`` in ``cwd`` and return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "skmlp", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )


def make_frame(n_samples, *, n_classes=2, seed=0):
    """Return a DataFrame of four number columns, a text column and a "label" target."""
    X, y = make_classification(
        n_samples=n_samples,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
    frame["group"] = np.where(X[:, 0] > 0, "high", "low")
    frame["label"] = np.array(["no", "yes", "maybe"])[y]
    return frame


def assert_one_error_line(result, expected_start):
    """Check the exit status and that stderr is the single expected error line."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"skmlp: error: {expected_start}"), lines[0]


def parse_metric(stdout, name):
    match = re.search(rf"^Test {re.escape(name)}: (\d\.\d{{4}})$", stdout, re.MULTILINE)
    assert match is not None, stdout
    return float(match.group(1))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder with train.csv, test.csv and predict.csv of the same columns."""
    folder = tmp_path_factory.mktemp("cli")
    frame = make_frame(300)
    frame.iloc[:200].to_csv(folder / "train.csv", index=False)
    frame.iloc[200:].to_csv(folder / "test.csv", index=False)
    frame.iloc[200:].drop(columns="label").to_csv(folder / "predict.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def trained_model(folder):
    """A model trained by the command line on train.csv, saved as model.skops."""
    result = run_skmlp(
        "train",
        "--data",
        "train.csv",
        "--target",
        "label",
        "--epochs",
        2,
        "--seed",
        0,
        "--output",
        "model.skops",
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    return folder / "model.skops"


def test_train_adult_default(tmp_path):
    result = run_skmlp(
        "train", "--epochs", 2, "--batch-size", 64, "--seed", 0, cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert "Training on 32561 rows and testing on 16281 rows." in result.stdout
    assert (
        len([line for line in result.stdout.splitlines() if EPOCH_ROW.match(line)]) == 2
    )
    assert parse_metric(result.stdout, "accuracy") >= 0.8
    assert parse_metric(result.stdout, "ROC-AUC") >= 0.85

    matrix_rows = result.stdout.split("columns: predicted label):\n")[1].splitlines()[
        1:3
    ]
    counts = [int(value) for row in matrix_rows for value in row.split()[1:]]
    assert [row.split()[0] for row in matrix_rows] == ["<=50K", ">50K"]
    assert sum(counts) == 16281

    model = load_model(tmp_path / "skmlp-model.skops")
    assert isinstance(model, Pipeline)
    assert model.named_steps["classifier"].n_iter_ == 2


def test_train_csv_holdout_scores(folder, tmp_path):
    result = run_skmlp(
        "train",
        "--data",
        folder / "train.csv",
        "--target",
        "label",
        "--epochs",
        2,
        "--seed",
        0,
        "--output",
        tmp_path / "model.skops",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "Training on 160 rows and testing on 40 rows." in result.stdout
    assert result.stderr.startswith("skmlp: warning: The model did not converge")
    assert "within --epochs=2 epochs" in result.stderr
    assert "Raise --epochs to train further" in result.stderr
    assert "max_iter" not in result.stderr

    frame = pd.read_csv(folder / "train.csv")
    X, y = frame.drop(columns="label"), frame["label"]
    _, X_test, _, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )
    model = load_model(tmp_path / "model.skops")
    assert parse_metric(result.stdout, "accuracy") == round(
        model.score(X_test, y_test), 4
    )


def test_train_csv_multiclass_roc_auc(tmp_path):
    make_frame(300, n_classes=3).to_csv(tmp_path / "train.csv", index=False)

    result = run_skmlp(
        "train",
        "--data",
        "train.csv",
        "--target",
        "label",
        "--epochs",
        2,
        "--seed",
        1,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert parse_metric(result.stdout, "ROC-AUC (macro one-vs-rest)") > 0.5
    assert (tmp_path / "skmlp-model.skops").exists()


def test_train_csv_test_file(folder, tmp_path):
    result = run_skmlp(
        "train",
        "--data",
        folder / "train.csv",
        "--test",
        folder / "test.csv",
        "--target",
        "label",
        "--epochs",
        2,
        "--format",
        "joblib",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "Training on 200 rows and testing on 100 rows." in result.stdout
    assert "Model saved to skmlp-model.joblib (joblib format)." in result.stdout
    assert isinstance(load_model(tmp_path / "skmlp-model.joblib"), Pipeline)


def test_train_single_class_test_file(folder, tmp_path):
    test = pd.read_csv(folder / "test.csv")
    test[test["label"] == "yes"].to_csv(tmp_path / "yes_only.csv", index=False)

    result = run_skmlp(
        "train",
        "--data",
        folder / "train.csv",
        "--test",
        "yes_only.csv",
        "--target",
        "label",
        "--epochs",
        2,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "Test ROC-AUC: skipped, the test data lacks the classes ['no']." in (
        result.stdout
    )
    assert 0 <= parse_metric(result.stdout, "accuracy") <= 1


@pytest.mark.parametrize("hidden", [["8,4"], ["8", "4"]])
def test_train_passes_only_given_options(folder, tmp_path, hidden):
    result = run_skmlp(
        "train",
        "--data",
        folder / "train.csv",
        "--target",
        "label",
        "--hidden",
        *hidden,
        "--solver",
        "adam",
        "--max-grad-norm",
        "none",
        "--decay",
        0,
        "--batch-size",
        16,
        "--learning-rate",
        0.005,
        "--early-stopping",
        "--epochs",
        2,
        "--seed",
        3,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    params = (
        load_model(tmp_path / "skmlp-model.skops")
        .named_steps["classifier"]
        .get_params()
    )
    set_on_command_line = {
        "hidden_layer_sizes": (8, 4),
        "solver": "adam",
        "max_grad_norm": None,
        "learning_rate_decay": 0.0,
        "batch_size": 16,
        "learning_rate_init": 0.005,
        "early_stopping": True,
        "max_iter": 2,
        "random_state": 3,
        "verbose": 1,
    }
    defaults = {
        name: value
        for name, value in ScratchMLPClassifier().get_params().items()
        if name not in set_on_command_line
    }
    assert {name: params[name] for name in set_on_command_line} == set_on_command_line
    assert {name: params[name] for name in defaults} == defaults


def test_train_existing_output_needs_force(folder, tmp_path):
    output = tmp_path / "model.skops"
    output.write_text("keep me")
    args = ["train", "--data", folder / "train.csv", "--target", "label", "--epochs", 2]

    rejected = run_skmlp(*args, "--output", output, cwd=tmp_path)

    assert_one_error_line(rejected, f"--output '{output}' already exists")
    assert "epoch" not in rejected.stdout
    assert output.read_text() == "keep me"

    forced = run_skmlp(*args, "--output", output, "--force", cwd=tmp_path)

    assert forced.returncode == 0, forced.stderr
    assert isinstance(load_model(output), Pipeline)


def test_train_plot_draws_history(folder, tmp_path):
    plot = tmp_path / "curves.png"
    args = ["train", "--data", folder / "train.csv", "--target", "label", "--epochs", 3]

    result = run_skmlp(*args, "--seed", 0, "--plot", plot, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"Training curves saved to {plot}." in result.stdout
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not list(tmp_path.glob(".curves.png.*"))


def test_train_plot_checked_before_training(folder, tmp_path):
    plot = tmp_path / "curves.png"
    plot.write_text("keep me")
    args = ["train", "--data", folder / "train.csv", "--target", "label", "--epochs", 2]

    existing = run_skmlp(*args, "--plot", plot, cwd=tmp_path)
    no_suffix = run_skmlp(*args, "--plot", tmp_path / "curves", cwd=tmp_path)

    assert_one_error_line(existing, f"--plot '{plot}' already exists")
    assert "epoch" not in existing.stdout
    assert plot.read_text() == "keep me"
    assert_one_error_line(no_suffix, "--plot")
    assert not (tmp_path / "skmlp-model.skops").exists()


def test_train_divergence(folder, tmp_path):
    result = run_skmlp(
        "train",
        "--data",
        folder / "train.csv",
        "--target",
        "label",
        "--epochs",
        2,
        "--learning-rate",
        1e300,
        "--max-grad-norm",
        "none",
        cwd=tmp_path,
    )

    assert_one_error_line(result, "Training diverged in epoch 1")
    assert "Lower --learning-rate (now 1e+300)" in result.stderr
    assert "set --max-grad-norm (now None)" in result.stderr
    assert not (tmp_path / "skmlp-model.skops").exists()


def _write_bad_inputs(folder, *, with_label):
    """Write one malformed input file per case of the error tests."""
    frame = make_frame(40)
    features = frame if with_label else frame.drop(columns="label")
    (folder / "empty.csv").write_text("")
    (folder / "header_only.csv").write_text("x0,x1,label\n")
    (folder / "ragged.csv").write_text("x0,x1,label\n1,2,yes\n3,4,no,5\n")
    features.to_csv(folder / "semicolons.csv", sep=";", index=False)
    frame.assign(label="yes").to_csv(folder / "one_class.csv", index=False)
    frame.assign(label=frame["x0"]).to_csv(folder / "continuous.csv", index=False)
    text_in_x1 = features["x1"].astype(str).where(features.index != 5, "n/a?")
    features.assign(x1=text_in_x1).to_csv(folder / "text_in_x1.csv", index=False)
    features.drop(columns="x2").to_csv(folder / "no_x2.csv", index=False)
    features.assign(extra=1).to_csv(folder / "extra.csv", index=False)


@pytest.fixture(scope="module")
def train_error_folder(folder, tmp_path_factory):
    """A folder with the training files and one malformed file per error case."""
    work = tmp_path_factory.mktemp("train_error")
    for name in ("train.csv", "test.csv"):
        (work / name).write_bytes((folder / name).read_bytes())
    _write_bad_inputs(work, with_label=True)
    return work


@pytest.fixture(scope="module")
def predict_error_folder(folder, trained_model, tmp_path_factory):
    """A folder with a model, data to predict and one bad file per error case."""
    work = tmp_path_factory.mktemp("predict_error")
    for name in ("train.csv", "predict.csv", "model.skops"):
        (work / name).write_bytes((folder / name).read_bytes())
    _write_bad_inputs(work, with_label=False)

    save_model(load_model(trained_model), work / "model.bin", format="joblib")
    save_model([1, 2, 3], work / "not_a_model.joblib")

    X, y = make_classification(
        n_samples=40, n_features=3, n_informative=2, n_redundant=0, random_state=0
    )
    untrusted = Pipeline(
        [
            ("double", FunctionTransformer(_double_values)),
            ("classifier", ScratchMLPClassifier((4,), max_iter=2, random_state=0)),
        ]
    )
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        untrusted.fit(X, y)
    save_model(untrusted, work / "untrusted.skops")
    return work


@pytest.mark.parametrize(
    "args, expected_start",
    [
        (
            ["--data", "absent.csv", "--target", "label"],
            "--data 'absent.csv' was not found",
        ),
        (
            ["--data", "train.csv", "--target", "income"],
            "target column 'income' was not found",
        ),
        (["--data", "train.csv"], "--target is missing"),
        (["--target", "label"], "--target applies only with --data"),
        (["--data", "empty.csv", "--target", "label"], "--data 'empty.csv' is empty"),
        (
            ["--data", "header_only.csv", "--target", "label"],
            "--data 'header_only.csv' has a header but no data rows",
        ),
        (
            ["--data", "ragged.csv", "--target", "label"],
            "--data 'ragged.csv' is not a valid CSV file",
        ),
        (
            ["--data", "semicolons.csv", "--target", "label"],
            "--data 'semicolons.csv' has a single column",
        ),
        (
            ["--data", "one_class.csv", "--target", "label"],
            "target column 'label' of 'one_class.csv' has a single value",
        ),
        (
            ["--data", "continuous.csv", "--target", "label"],
            "target column 'label' of 'continuous.csv' contains continuous",
        ),
        (
            ["--data", "train.csv", "--test", "text_in_x1.csv", "--target", "label"],
            "column 'x1' of 'text_in_x1.csv' contains text ('n/a?' on line 7)",
        ),
        (
            [
                "--data",
                "train.csv",
                "--target",
                "label",
                "--output",
                "m.joblib",
                "--format",
                "skops",
            ],
            "--output 'm.joblib' ends in .joblib, but --format is skops",
        ),
        (
            ["--data", "train.csv", "--target", "label", "--output", "absent/m.skops"],
            "the folder of --output 'absent/m.skops' was not found",
        ),
    ],
)
def test_train_input_errors(train_error_folder, args, expected_start):
    before = set(train_error_folder.iterdir())

    result = run_skmlp("train", "--epochs", 2, *args, cwd=train_error_folder)

    assert_one_error_line(result, expected_start)
    assert set(train_error_folder.iterdir()) == before


@pytest.mark.parametrize(
    "signal_number, status, word",
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_train_signal_saves_nothing(tmp_path, signal_number, status, word):
    make_frame(6000, seed=2).to_csv(tmp_path / "large.csv", index=False)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skmlp",
            "train",
            "--data",
            "large.csv",
            "--target",
            "label",
            "--batch-size",
            "1",
            "--epochs",
            "1000",
            "--seed",
            "0",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        line = process.stdout.readline()
        while line and not EPOCH_ROW.match(line) and time.monotonic() < deadline:
            line = process.stdout.readline()
        assert EPOCH_ROW.match(line), f"no epoch row before exit: {line!r}"

        process.send_signal(signal_number)
        _, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        f"skmlp: {word}; 'train' stopped and wrote no file."
    ]
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["large.csv"]


def test_output_same_as_input_rejected(folder, trained_model, tmp_path):
    data = tmp_path / "rows.csv"
    data.write_bytes((folder / "predict.csv").read_bytes())
    before = data.read_bytes()

    predict = run_skmlp(
        "predict",
        "--model",
        trained_model,
        "--data",
        data,
        "--output",
        data,
        "--force",
        cwd=tmp_path,
    )
    train = run_skmlp(
        "train",
        "--data",
        folder / "train.csv",
        "--target",
        "label",
        "--output",
        tmp_path / "same.skops",
        "--plot",
        tmp_path / "same.skops",
        "--force",
        cwd=tmp_path,
    )

    assert_one_error_line(predict, "--output")
    assert "is the same file as --data" in predict.stderr
    assert data.read_bytes() == before
    assert_one_error_line(train, "--plot")
    assert not (tmp_path / "same.skops").exists()


def test_train_closed_stdout(folder, tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "skmlp",
            "train",
            "--data",
            str(folder / "train.csv"),
            "--target",
            "label",
            "--epochs",
            "50",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=TIMEOUT_SECONDS)

    assert process.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith("skmlp: error: standard output was closed")
    )
    assert not (tmp_path / "skmlp-model.skops").exists()


def test_predict_writes_probabilities(folder, trained_model, tmp_path):
    output = tmp_path / "predictions.csv"

    result = run_skmlp(
        "predict",
        "--model",
        trained_model,
        "--data",
        folder / "predict.csv",
        "--output",
        output,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"Wrote 100 predictions to {output}." in result.stdout

    written = pd.read_csv(output)
    model = load_model(trained_model)
    X = pd.read_csv(folder / "predict.csv")
    assert list(written.columns) == ["prediction", "proba_no", "proba_yes"]
    assert list(model.classes_) == ["no", "yes"]
    np.testing.assert_array_equal(written["prediction"], model.predict(X))
    np.testing.assert_array_equal(
        written[["proba_no", "proba_yes"]].to_numpy(), model.predict_proba(X)
    )


def test_predict_names_unknown_category_column(folder, trained_model, tmp_path):
    frame = pd.read_csv(folder / "predict.csv")
    frame.loc[:4, "group"] = "unseen"
    frame.to_csv(tmp_path / "unseen.csv", index=False)

    result = run_skmlp(
        "predict",
        "--model",
        trained_model,
        "--data",
        tmp_path / "unseen.csv",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skmlp: warning: Found unknown categories in columns")
    assert "columns ['group']" in lines[0]


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "Found unknown categories in columns [0, 2] during transform.",
            "Found unknown categories in columns ['a', 'c'] during transform.",
        ),
        (
            "Found unknown categories in columns [3] during transform.",
            "Found unknown categories in columns [3] during transform.",
        ),
        ("Another warning [0].", "Another warning [0]."),
    ],
)
def test_warning_column_names(message, expected):
    assert with_column_names(message, ["a", "b", "c"]) == expected


def test_predict_reads_spaces_after_commas(folder, trained_model, tmp_path):
    # Adult's own files separate fields with ", "; the spaces are not part of
    # the values, so the predictions equal those of the plain file.
    spaced = tmp_path / "spaced.csv"
    plain_text = (folder / "predict.csv").read_text()
    spaced.write_text(plain_text.replace(",", ", "))
    outputs = {}

    for name, data in (("plain", folder / "predict.csv"), ("spaced", spaced)):
        outputs[name] = tmp_path / f"{name}-predictions.csv"
        result = run_skmlp(
            "predict",
            "--model",
            trained_model,
            "--data",
            data,
            "--output",
            outputs[name],
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""

    assert ", " in spaced.read_text()
    pd.testing.assert_frame_equal(
        pd.read_csv(outputs["spaced"]), pd.read_csv(outputs["plain"])
    )


def test_predict_existing_output_needs_force(folder, trained_model, tmp_path):
    output = tmp_path / "predictions.csv"
    output.write_text("keep me")
    args = [
        "predict",
        "--model",
        trained_model,
        "--data",
        folder / "predict.csv",
        "--output",
        output,
    ]

    rejected = run_skmlp(*args, cwd=tmp_path)

    assert_one_error_line(rejected, f"--output '{output}' already exists")
    assert output.read_text() == "keep me"

    forced = run_skmlp(*args, "--force", cwd=tmp_path)

    assert forced.returncode == 0, forced.stderr
    assert len(pd.read_csv(output)) == 100


def test_predict_joblib_model(folder, trained_model, tmp_path):
    model_path = tmp_path / "model.joblib"
    save_model(load_model(trained_model), model_path)

    result = run_skmlp(
        "predict", "--model", model_path, "--data", folder / "predict.csv", cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert list(pd.read_csv(tmp_path / "predictions.csv").columns) == [
        "prediction",
        "proba_no",
        "proba_yes",
    ]


def test_predict_help_explains_joblib():
    result = subprocess.run(
        [sys.executable, "-m", "skmlp", "predict", "--help"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )

    assert result.returncode == 0
    assert "runs any code" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    "model, data, extra, expected_start",
    [
        ("absent.skops", "predict.csv", [], "--model 'absent.skops' was not found"),
        (
            "predict.csv",
            "predict.csv",
            [],
            "cannot load --model: 'predict.csv' is not a valid skops file",
        ),
        (
            "predict.csv",
            "predict.csv",
            ["--format", "joblib"],
            "cannot load --model: 'predict.csv' is not a valid joblib file",
        ),
        (
            "model.bin",
            "predict.csv",
            [],
            "cannot load --model: 'model.bin' is not a valid skops file",
        ),
        (
            "untrusted.skops",
            "predict.csv",
            [],
            "cannot load --model: 'untrusted.skops' contains types that are not",
        ),
        (
            "not_a_model.joblib",
            "predict.csv",
            [],
            "--model 'not_a_model.joblib' contains a list, not a fitted classifier",
        ),
        (
            "model.skops",
            "no_x2.csv",
            [],
            "--data 'no_x2.csv' is missing the column(s) 'x2'",
        ),
        (
            "model.skops",
            "train.csv",
            [],
            "--data 'train.csv' has the column(s) 'label'",
        ),
        (
            "model.skops",
            "text_in_x1.csv",
            [],
            "column 'x1' of 'text_in_x1.csv' contains text ('n/a?' on line 7)",
        ),
    ],
)
def test_predict_input_errors(predict_error_folder, model, data, extra, expected_start):
    before = set(predict_error_folder.iterdir())

    result = run_skmlp(
        "predict", "--model", model, "--data", data, *extra, cwd=predict_error_folder
    )

    assert_one_error_line(result, expected_start)
    assert set(predict_error_folder.iterdir()) == before
