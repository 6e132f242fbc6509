"""What a PostgreSQL session of the pipeline sets for itself (warehouse/backend.py connect)."""
import pytest

from warehouse import connect


@pytest.mark.postgres
def test_sessions_compile_nothing_and_read_only_ones_stay_read_only(pg_url):
    # JIT: the steward report's reading of a five-year warehouse spent 8.9 s compiling a plan
    # it executed in 1.2 s (docs/performance.md)
    with connect(pg_url) as wh:
        assert wh.scalar("SHOW jit") == "off"
        assert wh.scalar("SHOW default_transaction_read_only") == "off"
    with connect(pg_url, read_only=True) as wh:
        assert wh.scalar("SHOW jit") == "off"
        assert wh.scalar("SHOW default_transaction_read_only") == "on"
