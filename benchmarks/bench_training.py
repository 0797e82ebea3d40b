"""Compare the training and prediction speed of skmlp with scikit-learn's MLP.

Both estimators get the same input, the output of the Adult preprocessing
(``make_adult_pipeline()[:-1]`` fitted on the training file), and the same
settings: hidden layers (64, 32), ReLU, plain SGD with momentum 0, a constant
learning rate of 0.01, no L2 penalty, the same batch size and the same number
of epochs. Clipping is off in ``ScratchMLPClassifier`` so that both run the
same updates. ``ScratchMLPClassifier`` computes in float32, as
``make_adult_pipeline`` sets it to (``--skmlp-dtype`` changes that);
``MLPClassifier`` computes in the dtype of the input, float64 unless
``--dtype float32`` is given. The script prints:

- training time per epoch (fit time divided by the epochs run) for each batch
  size and input format, as wall-clock and process CPU time, with the test
  accuracy of both models;
- the floor: a numpy loop of only the forward and backward matrix products of
  the same network on preallocated arrays, 3 forward and 5 backward products
  per mini-batch, timed with one BLAS thread and with the current setting,
  whichever is faster;
- ``predict_proba`` throughput on the full test set, over blocks of calls
  after untimed warm-up calls, in rows per second of wall-clock and of CPU
  time, and the rate of single calls each made right after the other
  estimator's;
- peak memory of ``fit``, from ``tracemalloc`` and from the peak resident
  memory of a fresh subprocess per estimator;
- time and memory per row of ``ScratchMLPClassifier`` on the training set
  repeated 1, 4 and 16 times.

Each timing is repeated and the median is reported. The repeats alternate
between the two estimators so that background load on a shared machine slows
both alike. Ratios are ours divided by scikit-learn's, from the same run.

From the root of a fresh clone, ``python3 -m venv .venv && .venv/bin/pip
install . && .venv/bin/python benchmarks/bench_training.py`` installs skmlp
and runs the full benchmark (1 to 2 minutes on two cores). Add ``--quick``
for a smoke run on a slice of the data.
"""

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings

import numpy as np
import scipy
import sklearn
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

import skmlp
from skmlp import ScratchMLPClassifier, make_adult_pipeline
from skmlp.datasets import load_adult

HIDDEN_LAYER_SIZES = (64, 32)
LEARNING_RATE = 0.01
ESTIMATOR_NAMES = ("skmlp", "sklearn")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2000 training rows, 1 epoch, 1 repeat, batch size 32, "
        "CSR input only, scaling factors 1 and 2",
    )
    parser.add_argument(
        "--epochs", type=int, default=5, help="epochs per fit (default: 5)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="repeats of each timing, whose median is reported (default: 3)",
    )
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=[32, 64, 256],
        help="batch sizes (default: 32 64 256)",
    )
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=["csr", "dense"],
        default=["csr", "dense"],
        help="input formats given to both estimators: csr is the pipeline's output, "
        "dense is the same matrix converted with toarray() (default: csr dense)",
    )
    parser.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default="float64",
        help="dtype of the input given to both estimators (default: float64)",
    )
    parser.add_argument(
        "--skmlp-dtype",
        choices=["float32", "float64", "input"],
        default="float32",
        help="dtype parameter of ScratchMLPClassifier: the precision it computes "
        "in; input follows the input's dtype, as MLPClassifier does "
        "(default: float32)",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=None,
        help="use only the first ROWS training rows (default: all)",
    )
    parser.add_argument(
        "--scaling",
        type=int,
        nargs="+",
        default=[1, 4, 16],
        help="times the training set is repeated in the scaling table "
        "(default: 1 4 16)",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS to this many threads for both estimators "
        "(default: leave as set)",
    )
    # Internal: measure the peak resident memory of one fit in this fresh process.
    parser.add_argument(
        "--child-memory",
        nargs=4,
        metavar=("ESTIMATOR", "NPZ", "BATCH", "SKMLP_DTYPE"),
        help=argparse.SUPPRESS,
    )

    args = parser.parse_args(argv)
    args.skmlp_dtype = _dtype_parameter(args.skmlp_dtype)
    if args.quick:
        args.rows = args.rows or 2000
        args.epochs = 1
        args.repeats = 1
        args.batch_sizes = [32]
        args.formats = ["csr"]
        args.scaling = [1, 2]
    return args


def _dtype_parameter(choice):
    """Return the ``dtype`` parameter for a ``--skmlp-dtype`` choice."""
    return None if choice in ("input", "None") else choice


def make_estimator(name, batch_size, epochs, skmlp_dtype=None):
    """Return an unfitted estimator of either library with the shared settings.

    ``skmlp_dtype`` is the ``dtype`` parameter of ``ScratchMLPClassifier``;
    ``MLPClassifier`` always computes in the dtype of its input.
    """
    shared = {
        "hidden_layer_sizes": HIDDEN_LAYER_SIZES,
        "activation": "relu",
        "solver": "sgd",
        "alpha": 0.0,
        "batch_size": batch_size,
        "learning_rate": "constant",
        "learning_rate_init": LEARNING_RATE,
        "momentum": 0.0,
        "max_iter": epochs,
        "shuffle": True,
        "random_state": 0,
        # With tol=0 and n_iter_no_change above max_iter, every fit runs all its epochs.
        "tol": 0.0,
        "n_iter_no_change": epochs + 1,
    }
    if name == "skmlp":
        return ScratchMLPClassifier(max_grad_norm=None, dtype=skmlp_dtype, **shared)
    return MLPClassifier(**shared)


def describe_machine():
    """Return the header lines: CPU, cores, Python, numpy build and BLAS."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    usable = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count()
    )
    blas_build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    lines = [
        f"CPU: {cpu}, {os.cpu_count()} cores ({usable} usable), load average "
        + " ".join(f"{load:.2f}" for load in os.getloadavg()),
        f"Python {platform.python_version()} ({platform.platform()})",
        f"numpy {np.__version__} built with {blas_build['name']} "
        f"{blas_build['version']}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, skmlp {skmlp.__version__}",
    ]
    for pool in threadpool_info():
        lines.append(
            f"threadpool: {pool['internal_api']} {pool['version']} "
            f"({os.path.basename(pool['filepath'])}), "
            f"architecture {pool.get('architecture')}, {pool['num_threads']} threads"
        )
    for variable in (
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
    ):
        lines.append(f"{variable}={os.environ.get(variable, '(unset)')}")
    return lines


def load_data(rows, dtype):
    """Return the preprocessed Adult train and test matrices (CSR) and labels."""
    X_train, y_train = load_adult(subset="train", return_X_y=True)
    X_test, y_test = load_adult(subset="test", return_X_y=True)

    # Fitted on every training row, so that a slice of rows leaves no category
    # of the test set unknown.
    preprocessor = make_adult_pipeline()[:-1].fit(X_train)
    A_train = sparse.csr_matrix(preprocessor.transform(X_train), dtype=dtype)
    A_test = sparse.csr_matrix(preprocessor.transform(X_test), dtype=dtype)
    y_train = np.asarray(y_train)
    if rows is not None:
        A_train, y_train = A_train[:rows], y_train[:rows]
    return A_train, y_train, A_test, np.asarray(y_test)


def time_fit(name, X, y, batch_size, epochs, skmlp_dtype):
    """Fit once and return the wall and CPU seconds per epoch and the estimator.

    The CPU time is that of the whole process, so it includes every BLAS
    thread.
    """
    estimator = make_estimator(name, batch_size, epochs, skmlp_dtype)
    gc.collect()
    started = time.perf_counter()
    cpu_started = time.process_time()
    estimator.fit(X, y)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    return seconds / estimator.n_iter_, cpu_seconds / estimator.n_iter_, estimator


def time_gemm_floor(n_samples, n_features, batch_size, dtype, epochs):
    """Return the seconds per epoch of only the matrix products of the network.

    Three products per mini-batch in the forward pass (one per layer) and five
    in the backward pass (a weight gradient per layer, and the gradient of the
    input of the two upper layers), on arrays allocated before the loop, in
    the dtype that skmlp computes in. ``np.dot`` is the cheapest numpy call for
    these shapes.
    """
    units = (n_features, *HIDDEN_LAYER_SIZES, 1)
    rng = np.random.default_rng(0)
    weights = [
        rng.standard_normal((n_in, n_out)).astype(dtype)
        for n_in, n_out in zip(units[:-1], units[1:], strict=True)
    ]
    weight_grads = [np.empty_like(W) for W in weights]
    x_batch = rng.standard_normal((batch_size, n_features)).astype(dtype)
    outputs = [np.empty((batch_size, n_out), dtype=dtype) for n_out in units[1:]]
    deltas = [np.empty((batch_size, n_out), dtype=dtype) for n_out in units[1:-1]]
    inputs = [x_batch, *outputs[:-1]]
    n_batches = -(-n_samples // batch_size)

    started = time.perf_counter()
    for _ in range(epochs * n_batches):
        for layer in range(3):
            np.dot(inputs[layer], weights[layer], out=outputs[layer])

        delta = outputs[2]
        for layer in (2, 1, 0):
            np.dot(inputs[layer].T, delta, out=weight_grads[layer])
            if layer > 0:
                np.dot(delta, weights[layer].T, out=deltas[layer - 1])
                delta = deltas[layer - 1]
    return (time.perf_counter() - started) / epochs


def time_predict_proba(estimator, X, seconds, warmup_seconds=0):
    """Return rows per second of wall-clock and of CPU time over a block of calls.

    ``predict_proba`` runs on ``X`` back to back: untimed for
    ``warmup_seconds``, then timed until ``seconds`` have passed, at least once.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < warmup_seconds:
        estimator.predict_proba(X)

    n_calls = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    while n_calls == 0 or time.perf_counter() - started < seconds:
        estimator.predict_proba(X)
        n_calls += 1
    rows = n_calls * X.shape[0]
    return (
        rows / (time.perf_counter() - started),
        rows / (time.process_time() - cpu_started),
    )


def fit_peak_memory(name, X, y, batch_size, epochs, skmlp_dtype):
    """Return the peak bytes that ``tracemalloc`` records during one fit."""
    estimator = make_estimator(name, batch_size, epochs, skmlp_dtype)
    gc.collect()
    tracemalloc.start()
    try:
        estimator.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def child_memory(name, npz_path, batch_size, skmlp_dtype):
    """Fit once in this process and print its peak resident memory as JSON."""
    data = np.load(npz_path, allow_pickle=True)
    X = sparse.csr_matrix(
        (data["data"], data["indices"], data["indptr"]), shape=tuple(data["shape"])
    )
    if data["dense"]:
        X = X.toarray()
    y = data["y"]
    gc.collect()
    before = peak_rss_kib()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        make_estimator(name, batch_size, 1, skmlp_dtype).fit(X, y)
    after = peak_rss_kib()
    print(json.dumps({"before_kib": before, "after_kib": after}))


def peak_rss_kib():
    """Return the peak resident memory of this process, in KiB.

    Linux's ``VmHWM`` counts from the start of this program. ``ru_maxrss``,
    the fallback elsewhere, keeps on Linux the peak of the parent process
    that started this one, which can hide the growth of a fit.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    # ru_maxrss is in KiB on Linux and in bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def subprocess_peak_rss(name, X, y, batch_size, skmlp_dtype, directory):
    """Return the peak resident memory, in KiB, before and after one fit.

    The fit runs in a fresh interpreter.
    """
    csr = sparse.csr_matrix(X)
    path = os.path.join(directory, f"data_{name}.npz")
    np.savez(
        path,
        data=csr.data,
        indices=csr.indices,
        indptr=csr.indptr,
        shape=np.array(csr.shape),
        dense=not sparse.issparse(X),
        y=y,
    )
    completed = subprocess.run(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--child-memory",
            name,
            path,
            str(batch_size),
            str(skmlp_dtype),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result["before_kib"], result["after_kib"]


def format_table(header, rows):
    """Return a plain-text table with right-aligned columns."""
    cells = [header] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run_training_table(args, A_train, y_train, A_test, y_test):
    """Time both estimators per input format and batch size, and print the table.

    Returns the fitted models of each format and batch size, with the test data
    in that format, for the prediction table.
    """
    rows = []
    fitted = {}
    for input_format in args.formats:
        X_train = A_train if input_format == "csr" else A_train.toarray()
        X_test = A_test if input_format == "csr" else A_test.toarray()
        for batch_size in args.batch_sizes:
            seconds = {name: [] for name in ESTIMATOR_NAMES}
            cpu_seconds = {name: [] for name in ESTIMATOR_NAMES}
            floor_seconds = []
            models = {}
            for repeat in range(args.repeats):
                # Alternate which estimator runs first in each repeat.
                names = ESTIMATOR_NAMES if repeat % 2 == 0 else ESTIMATOR_NAMES[::-1]
                for name in names:
                    per_epoch, cpu_per_epoch, models[name] = time_fit(
                        name,
                        X_train,
                        y_train,
                        batch_size,
                        args.epochs,
                        args.skmlp_dtype,
                    )
                    seconds[name].append(per_epoch)
                    cpu_seconds[name].append(cpu_per_epoch)

                # The floor is the faster of one BLAS thread and the current
                # setting, since either may win for products this small.
                floors = []
                for threads in (1, args.blas_threads):
                    with threadpool_limits(threads):
                        floors.append(
                            time_gemm_floor(
                                X_train.shape[0],
                                X_train.shape[1],
                                batch_size,
                                np.dtype(args.skmlp_dtype or A_train.dtype),
                                1,
                            )
                        )
                floor_seconds.append(min(floors))

            ours = statistics.median(seconds["skmlp"])
            theirs = statistics.median(seconds["sklearn"])
            floor = statistics.median(floor_seconds)
            cpu_ratio = statistics.median(cpu_seconds["skmlp"]) / statistics.median(
                cpu_seconds["sklearn"]
            )
            accuracy = {
                name: models[name].score(X_test, y_test) for name in ESTIMATOR_NAMES
            }
            rows.append(
                [
                    input_format,
                    batch_size,
                    f"{ours * 1e3:.1f}",
                    f"{theirs * 1e3:.1f}",
                    f"{ours / theirs:.3f}",
                    f"{cpu_ratio:.3f}",
                    f"{floor * 1e3:.1f}",
                    f"{ours / floor:.2f}",
                    f"{accuracy['skmlp']:.4f}",
                    f"{accuracy['sklearn']:.4f}",
                    f"{100 * (accuracy['skmlp'] - accuracy['sklearn']):+.2f}",
                ]
            )
            fitted[(input_format, batch_size)] = (models, X_test)

    header = [
        "input",
        "batch",
        "skmlp ms/epoch",
        "sklearn ms/epoch",
        "ratio",
        "CPU ratio",
        "GEMM floor ms",
        "skmlp/floor",
        "skmlp acc",
        "sklearn acc",
        "acc diff (points)",
    ]
    print(
        f"\nTraining time per epoch ({args.epochs} epoch(s) per fit, "
        f"median of {args.repeats})"
    )
    print(format_table(header, rows))
    return fitted


def predict_repeats(args):
    """Return how many blocks of calls, or single calls, each model is timed on."""
    return 2 * args.repeats + 1


# Each block of predict_proba calls is timed for this long, after calls that
# are not timed for the warm-up time. For about 0.1 s after a product that ran
# on several OpenBLAS threads, those threads keep spinning and take a core from
# whatever runs next. On a virtual machine, the first calls after an idle spell
# also wait for idle virtual CPUs to wake up.
PREDICT_BLOCK_SECONDS = 0.25
PREDICT_WARMUP_SECONDS = 0.15


def run_predict_table(args, fitted):
    rows = []
    block_seconds, warmup_seconds = (
        (0, 0) if args.quick else (PREDICT_BLOCK_SECONDS, PREDICT_WARMUP_SECONDS)
    )
    for (input_format, batch_size), (models, X_test) in fitted.items():
        if batch_size != args.batch_sizes[0]:
            continue
        rates = {name: [] for name in ESTIMATOR_NAMES}
        cpu_rates = {name: [] for name in ESTIMATOR_NAMES}
        single_rates = {name: [] for name in ESTIMATOR_NAMES}
        for repeat in range(predict_repeats(args)):
            names = ESTIMATOR_NAMES if repeat % 2 == 0 else ESTIMATOR_NAMES[::-1]
            for name in names:
                rate, cpu_rate = time_predict_proba(
                    models[name], X_test, block_seconds, warmup_seconds
                )
                rates[name].append(rate)
                cpu_rates[name].append(cpu_rate)
        # Always in the same order, so that each call follows the other
        # estimator's call.
        for _ in range(7 * predict_repeats(args)):
            for name in ESTIMATOR_NAMES:
                single_rates[name].append(
                    time_predict_proba(models[name], X_test, 0)[0]
                )

        medians = [
            {name: statistics.median(values[name]) for name in ESTIMATOR_NAMES}
            for values in (rates, cpu_rates, single_rates)
        ]
        row = [input_format, X_test.shape[0]]
        for median in medians:
            row += [
                f"{median['skmlp'] / 1e3:.0f}",
                f"{median['sklearn'] / 1e3:.0f}",
                f"{median['skmlp'] / median['sklearn']:.2f}",
            ]
        rows.append(row)

    if block_seconds:
        blocks = (
            f"blocks of {block_seconds} s of calls, each after {warmup_seconds} s "
            "of untimed calls"
        )
    else:
        blocks = "single calls"
    print(
        f"\npredict_proba on the test set, thousands of rows per second of wall "
        f"clock and per CPU second; above 1, skmlp is faster (throughput: median "
        f"of {predict_repeats(args)} {blocks}; interleaved: median of "
        f"{7 * predict_repeats(args)} single calls, each right after the other "
        "estimator's)"
    )
    print(
        format_table(
            [
                "input",
                "rows",
                "skmlp",
                "sklearn",
                "ratio",
                "skmlp CPU",
                "sklearn CPU",
                "CPU ratio",
                "skmlp interleaved",
                "sklearn interleaved",
                "interleaved ratio",
            ],
            rows,
        )
    )


def run_memory_table(args, A_train, y_train):
    rows = []
    batch_size = args.batch_sizes[0]
    with tempfile.TemporaryDirectory() as directory:
        for input_format in args.formats:
            X_train = A_train if input_format == "csr" else A_train.toarray()
            peaks = {}
            rss = {}
            for name in ESTIMATOR_NAMES:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    peaks[name] = fit_peak_memory(
                        name, X_train, y_train, batch_size, 1, args.skmlp_dtype
                    )
                before, after = subprocess_peak_rss(
                    name, X_train, y_train, batch_size, args.skmlp_dtype, directory
                )
                rss[name] = f"{after / 1024:.1f} (+{(after - before) / 1024:.1f})"
            rows.append(
                [
                    input_format,
                    f"{peaks['skmlp'] / 2**20:.2f}",
                    f"{peaks['sklearn'] / 2**20:.2f}",
                    f"{peaks['skmlp'] / peaks['sklearn']:.2f}",
                    rss["skmlp"],
                    rss["sklearn"],
                ]
            )

    header = [
        "input",
        "skmlp tracemalloc MiB",
        "sklearn tracemalloc MiB",
        "ratio",
        "skmlp peak RSS MiB (fit growth)",
        "sklearn peak RSS MiB (fit growth)",
    ]
    print(f"\nPeak memory of one fit (batch size {batch_size}, 1 epoch)")
    print(format_table(header, rows))


def run_scaling_table(args, A_train, y_train):
    rows = []
    batch_size = args.batch_sizes[0]
    data = {
        factor: (
            sparse.vstack([A_train] * factor, format="csr"),
            np.tile(y_train, factor),
        )
        for factor in args.scaling
    }

    # Each repeat visits every size, so that a change in background load
    # reaches all sizes alike.
    per_row = {factor: [] for factor in args.scaling}
    for _ in range(args.repeats):
        for factor, (X, y) in data.items():
            per_epoch, _, _ = time_fit("skmlp", X, y, batch_size, 1, args.skmlp_dtype)
            per_row[factor].append(per_epoch / X.shape[0])

    base = None
    for factor, (X, y) in data.items():
        data_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes + y.nbytes
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            peak = fit_peak_memory("skmlp", X, y, batch_size, 1, args.skmlp_dtype)

        median = statistics.median(per_row[factor])
        base = median if base is None else base
        rows.append(
            [
                f"{factor}x",
                X.shape[0],
                f"{data_bytes / 2**20:.1f}",
                f"{median * 1e6:.2f}",
                f"{median / base:.2f}",
                f"{peak / 2**20:.2f}",
                f"{peak / X.shape[0]:.1f}",
            ]
        )

    header = [
        "data",
        "rows",
        "data MiB",
        "us/row",
        "vs 1x",
        "fit peak MiB",
        "peak bytes/row",
    ]
    print(
        f"\nScaling of skmlp with rows (CSR input, batch size {batch_size}, "
        f"1 epoch, median of {args.repeats})"
    )
    print(format_table(header, rows))


def main(argv=None):
    args = parse_args(argv)
    if args.child_memory:
        name, path, batch_size, skmlp_dtype = args.child_memory
        child_memory(name, path, int(batch_size), _dtype_parameter(skmlp_dtype))
        return

    print(
        "skmlp training benchmark"
        + (" (quick smoke run; figures are not meaningful)" if args.quick else "")
    )
    for line in describe_machine():
        print(line)

    A_train, y_train, A_test, y_test = load_data(args.rows, np.dtype(args.dtype))
    print(
        f"Data: Adult pipeline output, {A_train.shape[0]} training rows, "
        f"{A_test.shape[0]} test rows, {A_train.shape[1]} columns, "
        f"{A_train.nnz / np.prod(A_train.shape):.1%} non-zero, {A_train.dtype}"
    )
    print(
        f"Network: hidden layers {HIDDEN_LAYER_SIZES}, ReLU, SGD with momentum 0, "
        f"constant learning rate {LEARNING_RATE}, alpha 0, skmlp clipping off"
    )
    print(
        f"Precision: skmlp computes in {args.skmlp_dtype or A_train.dtype} "
        f"(dtype={args.skmlp_dtype!r}), scikit-learn in the input's {A_train.dtype}"
    )

    with threadpool_limits(args.blas_threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = run_training_table(args, A_train, y_train, A_test, y_test)
        run_predict_table(args, fitted)
        run_scaling_table(args, A_train, y_train)
    run_memory_table(args, A_train, y_train)


if __name__ == "__main__":
    main()
