"""How the `deflect` commands end when something fails: one line for the operator, never a
traceback (that goes to the log at debug level), and an exit status by the failure's kind."""
from __future__ import annotations

import logging
import sys

from deflect.core.config import ConfigError

# Exit status (docs/operations.md): 0 done (quarantines included), 1 a source could not be
# processed, 2 the command or its configuration is wrong, 3 the run could not be done (another
# run holds the warehouse, the warehouse or a disk failed), 4 an unexpected error.
EXIT_USAGE, EXIT_CANNOT_RUN, EXIT_INTERNAL = 2, 3, 4


def fail(exc: BaseException, prog: str) -> int:
    """One line for the operator, never a traceback (that goes to the log at debug level), and
    the exit status of the failure's kind."""
    import errno

    from deflect.core.dates import AsOfError

    logging.getLogger(prog).debug("failure", exc_info=exc)
    first = (str(exc).strip().splitlines() or [""])[0][:500]
    if isinstance(exc, SystemExit):
        raise exc
    if isinstance(exc, BrokenPipeError):  # `deflect quarantine list | head`: the reader left
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if isinstance(exc, KeyboardInterrupt):
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    from warehouse.keying import PersonKeyChanged

    if isinstance(exc, ConfigError | AsOfError | PersonKeyChanged):
        print(f"{prog}: {first}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {exc.filename}" if exc.filename else ""
        print(f"{prog}: the disk is full{where}; free space and run again (nothing half-loaded "
              f"stays: the load is one transaction)", file=sys.stderr)
        return EXIT_CANNOT_RUN
    if _is_warehouse_failure(exc):
        print(f"{prog}: the warehouse failed: {type(exc).__name__}: {first}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    print(f"{prog}: unexpected error: {type(exc).__name__}: {first} (run with -v for details)",
          file=sys.stderr)
    return EXIT_INTERNAL


def _is_warehouse_failure(exc: BaseException) -> bool:
    from warehouse.backend import WarehouseError, database_errors

    return isinstance(exc, (WarehouseError, *database_errors()))
