"""Small units of the core: safe names, sidecars, prolog checks, redaction, plan, ids."""
from __future__ import annotations

import pytest

from adapters.meg_reports import MegAdapter
from adapters.tracs import TracsAdapter
from adapters.tracs.sidecar import parse_sidecar
from deflect.core.canonical import LedgerEntry, LedgerSnapshot
from ingestion.batch import quarantine_id
from ingestion.document import redact
from ingestion.landing import safe_name
from ingestion.plan import RemoteFile, SourcePlan, classify, quarantine_basis, split_plan
from ingestion.transport import RemoteEntry
from ingestion.xmlsafe import check_prolog


@pytest.mark.parametrize("remote", [
    "../../etc/passwd", "/abs/path.xml", "a/../../b.xml", "..", ".", ".hidden", "a\x00b.xml",
    "tab\tnew\nline.xml", "..\\..\\win.xml", "", "名前.xml", "x" * 1000,
])
def test_safe_name_stays_inside_its_directory(remote, tmp_path):
    name = safe_name(remote)
    assert name and "/" not in name and "\x00" not in name and not name.startswith(".")
    assert len(name) <= 150 and all(32 < ord(c) < 127 for c in name)
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_safe_name_keeps_ordinary_names():
    assert safe_name("TRACS_IL0849800_20261125T013004_0001.xml.gz") == \
        "TRACS_IL0849800_20261125T013004_0001.xml.gz"


def test_parse_sidecar():
    d = "ab" * 32
    assert parse_sidecar(f"{d}  f.xml\n".encode(), "f.xml") == d
    for bad in (f"{d.upper()}  f.xml\n", f"{d} f.xml\n", f"{d}  g.xml\n", f"{d}  f.xml",
                f"{d}  f.xml\n{d}  f.xml\n", f"{d[:-1]}  f.xml\n", f"{d} *f.xml\n"):
        assert parse_sidecar(bad.encode(), "f.xml") is None
    assert parse_sidecar(None, "f.xml") is None


@pytest.mark.parametrize("prolog,code", [
    (b'<?xml version="1.0" encoding="UTF-8"?>\n<R/>', None),
    (b'<?xml version="1.0" encoding="iso-8859-1"?><R/>', None),
    (b"\xef\xbb\xbf<R/>", None),
    (b"<!-- a comment with <!DOCTYPE inside --><R/>", None),
    (b'<?xml version="1.0" encoding="UTF-16"?><R/>', "F01"),
    (b"\xff\xfe<\x00R\x00", "F01"),
    (b'\xef\xbb\xbf<?xml version="1.0" encoding="ISO-8859-1"?><R/>', "F01"),
    (b"just text", "F01"),
    (b"<!DOCTYPE R><R/>", "F06"),
    (b'<?xml version="1.0"?>\n<!ENTITY x "y"><R/>', "F06"),
])
def test_check_prolog(prolog, code):
    found = check_prolog(prolog)
    assert [f.code for f in found] == ([code] if code else [])


PERSONAL_MESSAGES = [
    "Element '{urn:x}individualDOB': '1988-02-31' is not a valid value of the atomic type 'xs:date'.",
    "Element '{urn:x}individualLastName': [facet 'maxLength'] The value 'Smithsonian' has a length of '70'; this exceeds the allowed maximum length of '60'.",
    # a long value as schemas.registry shortens it: its head is still a name
    "Element '{urn:x}individualLastName': 'Smithsonian Smithsonian Smithsonian Smith…' (300 characters) is not a valid value of the union type '{urn:x}Text60OrBlank'.",
    "Element '{urn:x}X': [facet 'pattern'] The value 'Smithsonian…' (value cut by libxml2) is not accepted by the pattern 'x'.",
]


@pytest.mark.parametrize("message", PERSONAL_MESSAGES)
def test_redact_masks_values_of_personal_fields(message):
    r = redact(message, personal=True)
    assert "'[masked]'" in r and "1988-02-31" not in r and "Smith" not in r
    assert "'{urn:x}" in r  # the element stays
    assert redact(message) == r  # personal unless told otherwise


def test_redact_shows_values_of_fields_that_are_not_personal():
    msg = ("Element '{urn:x}Deflection', attribute 'Pathway': [facet 'enumeration'] The value "
           "'7' is not an element of the set {'1', '2', '3', '4', '5'}.")
    assert redact(msg, personal=False) == msg
    long = "Element '{urn:x}CountyFIPS': '" + "1" * 40 + "…' (300 characters) is not a valid value."
    assert redact(long, personal=False) == long
    odd = "Element '{urn:x}Sex': '\x1b[2JQ\nZ' is not a valid value of the atomic type 'x'."
    assert redact(odd, personal=False) == (
        "Element '{urn:x}Sex': '\\x1b[2JQ\\nZ' is not a valid value of the atomic type 'x'.")


def test_quarantine_id_is_deterministic():
    a = quarantine_id("s", "FR-1", "ab")
    assert a == quarantine_id("s", "FR-1", "ab") and a != quarantine_id("s", "FR-1", "ac")
    assert quarantine_id("s", None, None, "f1") != quarantine_id("s", None, None, "f2")


NAME = "TRACS_IL0849800_20261125T013004_0001.xml"
DIGEST = "ab" * 32


def _listing(*entries):
    return [RemoteEntry(*e) for e in entries]


def test_plan_pending_unchanged_and_to_fetch():
    other = NAME.replace("0001", "0002")
    listing = _listing((NAME, 10, 100), (NAME + ".sha256", 80, 101), (other, 5, 100),
                       (other + ".part", 5, 100), ("README", 1, 1))
    plan = classify(listing, TracsAdapter(), LedgerSnapshot(), "t")
    assert [f.name for f in plan.to_fetch] == [NAME]
    assert [f.name for f in plan.pending] == [other] and plan.pending[0].pending
    assert len(plan.files_seen) == 2
    ledger = LedgerSnapshot({NAME: [LedgerEntry(NAME, 10, 100, DIGEST, "loaded")]}, {DIGEST})
    plan = classify(listing, TracsAdapter(), ledger, "t")
    assert plan.to_fetch == [] and [f.name for f in plan.unchanged] == [NAME]
    # same name, new size or mtime: fetched again (a MEG correction)
    changed = _listing((NAME, 11, 100), (NAME + ".sha256", 80, 101))
    assert [f.name for f in classify(changed, TracsAdapter(), ledger, "t").to_fetch] == [NAME]
    # a pending ledger entry is not final
    ledger = LedgerSnapshot({NAME: [LedgerEntry(NAME, 10, 100, None, "pending")]})
    assert len(classify(listing, TracsAdapter(), ledger, "t").to_fetch) == 1


def test_plan_refetches_f04_but_not_other_quarantines():
    listing = _listing((NAME, 10, 100), (NAME + ".sha256", 80, 101))
    sidecar = f"{DIGEST}  {NAME}\n".encode()
    read = {NAME + ".sha256": sidecar}.get
    bad = "cd" * 32  # what the corrupt transfer's bytes hashed to
    ledger = LedgerSnapshot({NAME: [LedgerEntry(NAME, 10, 100, bad, "quarantined")]}, {bad})
    plan = classify(listing, TracsAdapter(), ledger, "t", read_small=read)
    assert [f.name for f in plan.to_fetch] == [NAME]
    # a quarantine of bytes the sidecar vouches for (F08, say), judged on today's basis: final
    judged = quarantine_basis("b1", DIGEST)
    ledger = LedgerSnapshot({NAME: [LedgerEntry(NAME, 10, 100, DIGEST, "quarantined", 101, 80,
                                                judged)]}, set())
    plan = classify(listing, TracsAdapter(), ledger, "t", basis="b1", read_small=read)
    assert plan.to_fetch == [] and len(plan.unchanged) == 1
    # ... judged again under another configuration or schema (basis), or without a basis
    plan = classify(listing, TracsAdapter(), ledger, "t", basis="b2", read_small=read)
    assert [f.name for f in plan.to_fetch] == [NAME]
    legacy = LedgerSnapshot({NAME: [LedgerEntry(NAME, 10, 100, DIGEST, "quarantined")]}, set())
    assert classify(listing, TracsAdapter(), legacy, "t", basis="b1", read_small=read).to_fetch


def test_a_sidecar_corrected_after_f04_is_a_reason_to_fetch_again():
    """The producer wrote the sidecar after the rename (F04: empty at listing time), then the
    right one: the F04 decision rested on the old sidecar and is taken again."""
    empty_then = quarantine_basis("b1", None)
    ledger = LedgerSnapshot({NAME: [LedgerEntry(NAME, 10, 100, DIGEST, "quarantined", 101, 0,
                                                empty_then)]}, set())
    sidecar = f"{DIGEST}  {NAME}\n".encode()
    fixed = _listing((NAME, 10, 100), (NAME + ".sha256", len(sidecar), 101))  # same second
    plan = classify(fixed, TracsAdapter(), ledger, "t", basis="b1",
                    read_small={NAME + ".sha256": sidecar}.get)
    assert [f.name for f in plan.to_fetch] == [NAME]


def test_a_new_done_marker_is_a_new_delivery_whatever_the_size_and_mtime():
    name = "CaseActivity_SIEG_20270120.xml"
    ledger = LedgerSnapshot({name: [LedgerEntry(name, 10, 200, "ab" * 32, "loaded", 200, 0)]},
                            {"ab" * 32})
    again = _listing((name, 10, 200), (name + ".done", 0, 200))
    assert classify(again, MegAdapter(), ledger, "m").to_fetch == []
    resent = _listing((name, 10, 200), (name + ".done", 0, 260))  # rsync -t kept the mtime
    assert [f.name for f in classify(resent, MegAdapter(), ledger, "m").to_fetch] == [name]


def test_plan_meg_marker_older_than_data_is_pending():
    name = "CaseActivity_SIEG_20270120.xml"
    listing = _listing((name, 10, 200), (name + ".done", 0, 100))
    plan = classify(listing, MegAdapter(), LedgerSnapshot(), "m")
    assert [f.name for f in plan.pending] == [name] and plan.to_fetch == []


def test_split_plan_batches_files_not_one_task_each():
    files = [RemoteFile(f"f{i}", 1, 1) for i in range(7)]
    plan = SourcePlan("s", files_seen=files, to_fetch=files[:5],
                      pending=[RemoteFile("p", 1, 1, pending=True)])
    batches = split_plan(plan, 3)
    assert [len(b) for b in batches] == [3, 3]
    assert [f for b in batches for f in b] == files[:5] + plan.pending
    assert split_plan(SourcePlan("s"), 3) == []
    with pytest.raises(ValueError):
        split_plan(plan, 0)


def test_split_plan_caps_the_bytes_of_a_batch():
    sizes = [30, 30, 30, 100, 10, 10, 70]
    files = [RemoteFile(f"f{i}", n, 1) for i, n in enumerate(sizes)]
    pending = [RemoteFile("p", 500, 1, pending=True)]
    plan = SourcePlan("s", files_seen=files, to_fetch=files, pending=pending)
    batches = split_plan(plan, 50, batch_bytes=64)
    # a file larger than the cap is a batch alone; name order is kept; pending files cost
    # nothing to fetch and ride along with the last batch
    assert [[f.name for f in b] for b in batches] == [
        ["f0", "f1"], ["f2"], ["f3"], ["f4", "f5"], ["f6", "p"]]
    assert all(sum(f.size for f in b if not f.pending) <= 64 or len(b) == 1 or
               sum(not f.pending for f in b) == 1 for b in batches)
    # the file count still caps a batch of small files
    assert [len(b) for b in split_plan(plan, 2, batch_bytes=10**9)] == [2, 2, 2, 2]
    with pytest.raises(ValueError):
        split_plan(plan, 3, batch_bytes=0)


def test_an_undeclared_entity_is_reported_where_it_is(tmp_path):
    from ingestion import xmlsafe

    path = tmp_path / "e.xml"
    path.write_bytes(b'<?xml version="1.0"?>\n<r>\n<a>\n  <b>&nope;</b>\n</a>\n</r>\n')
    with pytest.raises(xmlsafe.FileRejected) as rejected:
        for _ in xmlsafe.iterparse(path, 10**6, events=("end",)):
            pass
    f = rejected.value.finding
    # libxml2 points at the reference (its end): line 4, within "  <b>&nope;"
    assert (f.code, f.line) == ("F01", 4) and 6 <= f.column <= 12
    assert "Entity 'nope' not defined" in f.message


def test_a_large_night_of_one_source_makes_a_few_batches_not_many():
    from deflect.pipeline import DEFAULT_BATCH_BYTES, SPREAD_BATCHES
    from ingestion.plan import batch_bytes_for

    def cap_of(files):  # as plan_source asks
        return batch_bytes_for(files, DEFAULT_BATCH_BYTES, SPREAD_BATCHES)

    mb = 1024 * 1024
    night = [RemoteFile(f"f{i}", 24 * mb, 1) for i in range(10)]  # 240 MB: capped at 64 MB
    assert cap_of(night) == DEFAULT_BATCH_BYTES
    assert len(split_plan(SourcePlan("s", to_fetch=night), 50, cap_of(night))) == 5
    bigger = night + night[:3]  # 312 MB: the cap grows to a quarter of it (78 MB, 3 files)
    assert cap_of(bigger) == 312 * mb // SPREAD_BATCHES
    assert len(split_plan(SourcePlan("s", to_fetch=bigger), 50, cap_of(bigger))) == 5
    year = [RemoteFile(f"f{i}", 30 * mb, 1) for i in range(365)]  # 11 GB: the file count rules
    assert cap_of(year) == 365 * 30 * mb // SPREAD_BATCHES
    assert len(split_plan(SourcePlan("s", to_fetch=year), 50, cap_of(year))) == 8
    assert batch_bytes_for(year, None, SPREAD_BATCHES) is None
