import pytest

from adapters.registry import adapter_for
from deflect.core.canonical import LedgerSnapshot
from ingestion import plan_source, process_files
from tests.ingestion.helpers import SECRET, make_config


@pytest.fixture
def run_files(tmp_path):
    """Plan and process one source over a local directory; returns (plan, result)."""
    counter = {"n": 0}

    def run(source, ledger=None, max_file_bytes=64 * 1024 * 1024):
        counter["n"] += 1
        ledger = ledger or LedgerSnapshot()
        config = make_config(tmp_path, source, max_file_bytes=max_file_bytes)
        plan = plan_source(source, adapter_for(source.kind), ledger, max_file_bytes=max_file_bytes)
        batch_dir = tmp_path / "work" / f"batch{counter['n']}"
        result = process_files(source, plan.to_fetch + plan.pending,
                               adapter=adapter_for(source.kind), config=config, ledger=ledger,
                               run_id=f"run{counter['n']}", batch_id=f"b{counter['n']}",
                               batch_dir=batch_dir, secret=SECRET)
        return plan, result

    return run
