"""Worker processes that do not outlive their parent.

A `deflect run` killed with SIGKILL cannot stop its workers itself: without this they went on
for minutes (downloading, holding the warehouse's run lock through an inherited descriptor).
Linux's PR_SET_PDEATHSIG has the kernel send each worker SIGKILL when its parent dies."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Call first thing in a forked worker: it is killed when the process that forked it dies.
    A no-op where prctl is not available (not Linux)."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
