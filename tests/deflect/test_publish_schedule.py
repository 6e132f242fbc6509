"""When the reporting DAG publishes a quarter by itself (publication.md §3): `statutory_lag_days`
after it closes, then monthly until it is a year old. A plain function, tested without Airflow."""
import datetime as dt

from deflect.publish import due_periods, schedule

D = dt.date


def test_the_schedule_of_a_quarter():
    days = schedule("2026-Q3", 45)
    assert days[0] == D(2026, 11, 14)
    assert days[1:4] == [D(2026, 12, 14), D(2027, 1, 14), D(2027, 2, 14)]
    assert days[-1] == D(2027, 9, 14) and len(days) == 11  # a year after 2026-09-30
    assert schedule("2026-Q4", 45)[:2] == [D(2027, 2, 14), D(2027, 3, 14)]


def up_to_date(today, *quarters):
    """Each quarter published on its latest scheduled date on or before `today`."""
    return {q: max(d for d in schedule(q, 45) if d <= today) for q in quarters}


EARLIER = ("2025-Q4", "2026-Q1", "2026-Q2")


def test_nothing_is_due_before_the_lag():
    assert due_periods(D(2026, 11, 13), 45, up_to_date(D(2026, 11, 13), *EARLIER)) == []
    assert due_periods(D(2026, 11, 14), 45, up_to_date(D(2026, 11, 14), *EARLIER)) == [
        "2026-Q3"]


def test_a_warehouse_that_never_published_catches_up_on_every_quarter_within_its_year():
    assert due_periods(D(2026, 11, 14), 45, {}) == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def test_a_published_quarter_is_due_again_a_month_later():
    done = up_to_date(D(2026, 11, 30), *EARLIER, "2026-Q3")
    assert due_periods(D(2026, 11, 30), 45, done) == []
    assert "2026-Q3" in due_periods(D(2026, 12, 14), 45, done)
    # a missed night: published on the next run, then not again until the next month
    assert "2026-Q3" in due_periods(D(2026, 12, 20), 45, done)
    assert "2026-Q3" not in due_periods(D(2026, 12, 21), 45, {"2026-Q3": D(2026, 12, 20)})
    assert "2026-Q3" in due_periods(D(2027, 1, 14), 45, {"2026-Q3": D(2026, 12, 20)})


def test_a_quarter_older_than_a_year_is_no_longer_published():
    done = {q: D(2027, 9, 14) for q in ("2026-Q3",)}
    # 2027-10-14: Q3 2026 is past its year, later quarters are due
    due = due_periods(D(2027, 10, 14), 45, done)
    assert "2026-Q3" not in due
    assert due == ["2026-Q4", "2027-Q1", "2027-Q2"]


def test_the_lag_is_configuration():
    assert due_periods(D(2026, 10, 1), 0, {}) == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert due_periods(D(2026, 10, 31), 30, {}) == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
