"""Import TensorFlow without the C++ start-up chatter (CUDA probing, CPU feature notes).

Those lines come from absl logging before Python can configure it, so the only way to keep
them off a user's terminal is to point file descriptor 2 elsewhere while TensorFlow starts.
Python exceptions are unaffected (they are raised, not printed, inside the block)."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def _fd2_silenced():
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (e.g. some notebook kernels)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow():
    """``import tensorflow`` (once) with its start-up logging silenced; returns the module."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _fd2_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # CUDA probing logs here, not later
    # retracing notes for models of new shapes are expected here (one model per restart/fold)
    tf.get_logger().setLevel("ERROR")
    return tf
