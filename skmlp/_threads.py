"""Control of the BLAS thread pool that numpy's matrix products run on."""

import contextlib
import functools
import threading

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_single_thread_users = 0
_limiter = None


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
    global _single_thread_users, _limiter

    with _lock:
        if _single_thread_users == 0:
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
