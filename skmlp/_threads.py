"""Control of the BLAS thread pool, and threads of our own for prediction."""

import concurrent.futures
import contextlib
import functools
import os
import threading

from joblib import cpu_count
from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_single_thread_users = 0
_limiter = None
# The BLAS limit that the first of the overlapping single_blas_thread contexts
# found on entering.
_limit_outside = 1


@functools.cache
def threadpool_controller():
    """Return the process's ``ThreadpoolController``, created once.

    Inspecting the loaded libraries takes a few milliseconds, so it is done
    once per process.
    """
    return ThreadpoolController()


def threads_for_products(n_rows, weight_shapes, max_multiply_adds):
    """Return a context that limits BLAS to one thread if every product is small.

    Parameters
    ----------
    n_rows : int
        Rows of the largest matrix that meets each weight matrix.
    weight_shapes : sequence of tuple of int
        ``(n_in, n_out)`` of each weight matrix.
    max_multiply_adds : int
        Largest product, in multiply-adds, that runs on one thread.
    """
    largest = n_rows * max(n_in * n_out for n_in, n_out in weight_shapes)
    if largest > max_multiply_adds:
        return contextlib.nullcontext()
    return single_blas_thread()


@contextlib.contextmanager
def single_blas_thread():
    """Limit BLAS to one thread for the duration of the context.

    Contexts that overlap, as in fits running on several threads, share one
    limit: the first one sets it and the last one to leave restores the
    previous setting. Each context restoring what it found would leave BLAS on
    one thread for good whenever the first one to enter is not the last one to
    leave.

    NOTE: with the OpenBLAS that numpy 2.4 wheels ship, a limit set from a
    thread other than the main one was not seen by that thread in testing. A
    fit on such a thread may therefore run its small products on every BLAS
    thread.
    """
    global _single_thread_users, _limiter, _limit_outside

    with _lock:
        if _single_thread_users == 0:
            _limit_outside = _blas_limit()
            _limiter = threadpool_controller().limit(limits=1, user_api="blas")
        _single_thread_users += 1
    try:
        yield
    finally:
        with _lock:
            _single_thread_users -= 1
            if _single_thread_users == 0:
                _limiter.restore_original_limits()
                _limiter = None


def available_threads():
    """Return how many threads numpy work may use: BLAS's thread limit.

    That limit follows ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and
    threadpoolctl's ``threadpool_limits``, as in a joblib worker, and is
    capped by the CPUs this process may run on. While a fit or a prediction
    on another thread keeps BLAS on one thread with :func:`single_blas_thread`,
    the limit from before that context counts.
    """
    limit = _limit_outside if _single_thread_users else _blas_limit()
    return max(1, min(limit, _usable_cpus()))


def _blas_limit():
    blas = threadpool_controller().select(user_api="blas").lib_controllers
    return min((library.num_threads for library in blas), default=1)


@functools.cache
def _usable_cpus():
    return cpu_count()


def run_in_threads(target, n_threads):
    """Call ``target()`` on ``n_threads`` threads, this one included, and wait.

    ``target`` shares its work with the other calls itself, for instance by
    taking items from a common iterator under a lock. The other calls run on
    threads that are started once per process and then wait for work, as
    starting a thread takes about 0.1 ms. A call that no thread has picked
    up by the time this thread's call returns is cancelled: it would find no
    work left. An exception raised by a call on another thread is raised
    again here.
    """
    futures = _submit(target, n_threads - 1)
    try:
        target()
    finally:
        started = [future for future in futures if not future.cancel()]
        concurrent.futures.wait(started)

    for future in started:
        future.result()


def _submit(target, n_calls):
    """Submit ``n_calls`` calls of ``target`` to the worker pool, or none at exit.

    concurrent.futures takes no new work once the interpreter has begun to
    exit (Python 3.11: it raises RuntimeError before atexit functions run), so
    a prediction in an atexit function runs on its calling thread alone.
    """
    futures = []
    for _ in range(n_calls):
        try:
            futures.append(_worker_pool().submit(target))
        except RuntimeError:
            break
    return futures


_pool = None
_pool_lock = threading.Lock()


def _worker_pool():
    """Return the process's pool of worker threads, created at first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                max(1, _usable_cpus() - 1), thread_name_prefix="skmlp"
            )
        return _pool


def _forget_worker_pool():
    """Drop the pool in a forked child, where its threads do not exist."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


def _forget_blas_limit():
    """Restore BLAS and reset the shared limit in a forked child.

    A thread of the parent that was inside :func:`single_blas_thread` at the
    fork does not exist in the child and never leaves the context there: its
    lock would stay held and its limit would never be restored. The forking
    thread itself is never inside the context, because no code that could
    fork runs within it.
    """
    global _lock, _single_thread_users, _limiter
    if _limiter is not None:
        _limiter.restore_original_limits()
    _lock = threading.Lock()
    _single_thread_users = 0
    _limiter = None


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_worker_pool)
    os.register_at_fork(after_in_child=_forget_blas_limit)
