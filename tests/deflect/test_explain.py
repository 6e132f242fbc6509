"""`deflect explain`: a deflection's lineage and a published cell's deflections, through the
command, on both backends; no person in the output; clear words when there is nothing."""
from __future__ import annotations

import pytest

from deflect.cli import main
from tests.stewardship.fixtures import make_config
from tests.warehouse.test_lineage import _load
from warehouse import connect, migrate

# the person keys and demographics the hand-made rows carry
PERSONAL = ("k" * 64, "m" * 64)


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def loaded(request, tmp_path):
    """A warehouse holding the lineage test's deflections, and a configuration over it."""
    if request.param == "duckdb":
        url = f"duckdb://{tmp_path / 'wh.duckdb'}"
    else:
        url = request.getfixturevalue("pg_url")
    with connect(url) as wh:
        migrate(wh)
        _load(wh, tmp_path)
        ids = dict(wh.query("SELECT sources, deflection_id FROM reporting.deflection"))
    make_config(tmp_path, warehouse=url)
    return url, str(tmp_path / "deflect.yaml"), ids


def _explain(capsys, *args):
    code = main(["explain", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_deflection_is_explained_by_its_record_versions(loaded, capsys):
    _, config, ids = loaded
    code, out, _ = _explain(capsys, "--config", config, ids["TRACS+MEG"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{ids['TRACS+MEG']}: SIEG ")
    assert "reported by TRACS+MEG" in lines[0]
    assert lines[1].split() == ["source", "record", "version", "file", "line", "run", "loaded",
                                "at"]
    form = next(x for x in lines if "FR-26-0000001" in x).split()
    assert form[:6] == ["tracs-isp", "FR-26-0000001", "2",
                        "TRACS_IL0849800_20261102T013000_1.xml", "12", "run-2"]
    assert form[6] == "2026-11-02"  # loaded at, in the session's time zone
    case = next(x for x in lines if "SIEG/SIEG-2026-0007" in x).split()
    assert case[:7] == ["meg-sieg", "SIEG/SIEG-2026-0007", "2026-10-26", "09:15:00",
                        "CaseActivity_SIEG_20261026.xml", "41", "run-1"]
    assert len(lines) == 4
    for value in PERSONAL:
        assert value not in out


def test_an_unknown_deflection_says_so(loaded, capsys):
    _, config, _ = loaded
    code, out, err = _explain(capsys, "--config", config, "D" + "0" * 24)
    assert code == 2 and out == ""
    assert "is not a counted deflection now" in err


def test_a_cell_without_a_published_vintage_says_so(loaded, capsys):
    _, config, _ = loaded
    code, out, err = _explain(capsys, "--config", config,
                              "--cell", "deflection_counts", "SIEG", "2026-Q4")
    assert code == 2 and out == ""
    assert "no published vintage" in err


def _publish(url, ids, vintages=True):
    """Two vintages of 2026-Q4 written into the publication's storage (migration 0017): the
    later one has the MEG-only deflection in SIEG's cells too. Members are of finest cells."""
    if not vintages:
        return  # the migrations made the views; nothing is published
    with connect(url) as wh, wh.transaction():
        wh.execute("INSERT INTO meta.publication VALUES "
                   "('2026-Q4.2026-12-01', '2026-Q4', DATE '2026-12-01', "
                   "TIMESTAMP '2026-12-01 08:00:00', 'run-2', 5, NULL), "
                   "('2026-Q4.2027-01-01', '2026-Q4', DATE '2027-01-01', "
                   "TIMESTAMP '2027-01-01 08:00:00', 'run-3', 5, NULL)")
        cells, members = set(), []
        for vintage, counted in (("2026-Q4.2026-12-01", [ids["TRACS"], ids["TRACS+MEG"]]),
                                 ("2026-Q4.2027-01-01",
                                  [ids["TRACS"], ids["TRACS+MEG"], ids["MEG"]])):
            def member(table, key, measure, origin, dimension, category, d, vintage=vintage):
                cells.add((vintage, table, key, measure, origin, "SIEG", "2026-Q4", dimension,
                           category))
                members.append((vintage, table, key, measure, d))

            for d in counted:
                member("deflection_counts", "ALL/SIEG/2026-Q4", "deflections", "ALL", None,
                       None, d)
                if d != ids["MEG"]:  # ISP-originated: the two TraCS ones
                    member("deflection_counts", "ISP/SIEG/2026-Q4", "deflections", "ISP", None,
                           None, d)
                sex = "F" if d == ids["MEG"] else "M"
                member("deflections_by_sex", f"SIEG/2026-Q4/{sex}", "deflections", None, "sex",
                       sex, d)
                member("statutory_measures", "SIEG/2026-Q4", "encounters", None, None, None, d)
            member("statutory_measures", "SIEG/2026-Q4", "engaged_30", None, None, None,
                   ids["TRACS+MEG"])
        for c in sorted(cells, key=str):
            wh.execute("INSERT INTO meta.published_cell VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                       "0, false)", list(c))
        for r in members:
            wh.execute("INSERT INTO meta.published_cell_member VALUES (?, ?, ?, ?, ?)", list(r))


def test_the_views_without_a_vintage_say_there_is_none(loaded, capsys):
    url, config, ids = loaded
    _publish(url, ids, vintages=False)
    code, _, err = _explain(capsys, "--config", config,
                            "--cell", "deflection_counts", "SIEG", "2026-Q4")
    assert code == 2 and "no published vintage" in err


def _listed(out):
    return sorted(x.split()[0] for x in out.splitlines() if x.startswith("  D"))


def test_a_cell_lists_its_deflections_in_the_latest_vintage(loaded, capsys):
    url, config, ids = loaded
    _publish(url, ids)
    code, out, _ = _explain(capsys, "--config", config,
                            "--cell", "deflection_counts", "SIEG", "2026-Q4")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "deflection_counts SIEG 2026-Q4, vintage 2026-Q4.2027-01-01"
    assert "deflections, origin ALL: 3 deflection(s)" in lines
    assert "deflections, origin ISP: 2 deflection(s)" in lines
    assert _listed(out) == sorted([*ids.values(), ids["TRACS"], ids["TRACS+MEG"]])
    code, out, _ = _explain(capsys, "--config", config,
                            "--cell", "deflection_counts", "SIEG", "2026-Q4", "ISP")
    assert code == 0 and "origin ALL" not in out and "origin ISP: 2" in out
    assert ids["MEG"] not in out
    for value in PERSONAL:
        assert value not in out


def test_a_total_is_the_union_of_its_cells(loaded, capsys):
    url, config, ids = loaded
    _publish(url, ids)
    code, out, _ = _explain(capsys, "--config", config,
                            "--cell", "deflections_by_sex", "SIEG", "2026-Q4", "F")
    assert code == 0 and _listed(out) == [ids["MEG"]]
    code, out, _ = _explain(capsys, "--config", config,
                            "--cell", "deflections_by_sex", "ALL", "ALL", "ALL")
    assert code == 0 and "deflections: 3 deflection(s)" in out
    assert _listed(out) == sorted(ids.values())
    code, out, _ = _explain(capsys, "--config", config,
                            "--cell", "statutory_measures", "SIEG", "2026-Q4")
    assert code == 0
    assert "encounters: 3 deflection(s)" in out and "engaged_30: 1 deflection(s)" in out


def test_a_cell_no_vintage_has_says_so(loaded, capsys):
    url, config, ids = loaded
    _publish(url, ids)
    code, _, err = _explain(capsys, "--config", config,
                            "--cell", "deflection_counts", "DMEG", "2026-Q4")
    assert code == 2 and "no published vintage has deflections in the cell" in err


def test_usage_errors(loaded, capsys):
    _, config, ids = loaded
    assert _explain(capsys, "--config", config)[0] == 2
    assert _explain(capsys, "--config", config, "--cell", "t", "SIEG")[0] == 2
    assert _explain(capsys, "--config", config, ids["MEG"], "--cell", "t", "SIEG", "Q")[0] == 2
