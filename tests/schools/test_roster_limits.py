"""Roster files that are large, bad, mixed or arbitrary: errors capped and counted, memory flat,
mixed encodings refused by line, and nothing but the domain's Invalid, all or nothing."""

from __future__ import annotations

import io
import time
import tracemalloc
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.core import csv_in
from app.core.errors import Invalid
from app.schools import rosters
from models.schools import RosterEntry, RosterImport
from tests.schools.factories import roster_csv, school, students

TODAY = date(2026, 11, 28)


def _numbers(session: Session, school_id: int) -> list[str]:
    rows = session.exec(
        select(RosterEntry.student_number)
        .where(RosterEntry.school_id == school_id)
        .order_by(RosterEntry.student_number)
    )
    return list(rows.all())


def test_a_roster_mixing_utf8_and_gbk_is_refused_with_its_lines(session):  # noqa: ANN001
    s = school(session)
    data = (
        "学号,姓名,出生日期\r\n".encode()
        + "001,张三,2008-03-05\r\n".encode()  # line 2: UTF-8
        + "002,李四,2008-03-06\r\n".encode("gbk")  # line 3: GBK
        + "003,王五,2008-03-07\r\n".encode()  # line 4: UTF-8
        + b"004,Li Lei,2008-03-08\r\n"  # ASCII: either
    )
    with pytest.raises(Invalid) as info:
        rosters.import_roster(session=session, school_id=s.id, data=data)
    assert info.value.code == "mixed_encoding"
    # the header and lines 2 and 4 are UTF-8: line 3 is the odd one out
    assert [d["line"] for d in info.value.details] == [3]
    assert "GBK" in info.value.details[0]["reason"]
    assert _numbers(session, s.id) == []  # 张三 was not stored as 寮犱笁
    imp = session.exec(select(RosterImport)).one()
    assert imp.status == "failed" and imp.bad_lines == 1


def test_errors_are_capped_at_1000_and_every_bad_line_is_counted(session):  # noqa: ANN001
    s = school(session)
    bad = [[f"X{i}", f"Name {i}", "2001-02-30", ""] for i in range(5000)]
    with pytest.raises(Invalid) as info:
        rosters.import_roster(session=session, school_id=s.id, data=roster_csv(bad))
    assert len(info.value.details) == csv_in.MAX_ERRORS == 1000
    assert info.value.details[0]["line"] == 2 and info.value.details[-1]["line"] == 1001
    assert "5000 bad line(s)" in info.value.message
    imp = session.exec(select(RosterImport)).one()
    assert (imp.status, imp.bad_lines, len(imp.errors)) == ("failed", 5000, 1000)


def test_a_line_that_is_not_csv_is_refused_not_a_crash(session):  # noqa: ANN001
    s = school(session)
    data = b'id,name,dob\r\n1,A,2001-01-01\r\n2,"' + b"x" * 200_000 + b'",2001-01-02\r\n'
    with pytest.raises(Invalid) as info:
        rosters.import_roster(session=session, school_id=s.id, data=data)
    assert info.value.details and info.value.details[0]["line"] >= 3
    assert _numbers(session, s.id) == []


def test_lone_cr_line_ends_are_read(session):  # noqa: ANN001
    s = school(session)
    data = roster_csv(students(3)).replace(b"\r\n", b"\r")
    imp = rosters.import_roster(session=session, school_id=s.id, data=data, today=TODAY)
    assert imp.imported == 3


def test_an_upload_is_read_from_its_file_without_loading_it(session):  # noqa: ANN001
    s = school(session)
    imp = rosters.import_roster(
        session=session, school_id=s.id, data=io.BytesIO(roster_csv(students(40))), today=TODAY
    )
    assert imp.imported == 40 and len(_numbers(session, s.id)) == 40


def _bad_roster(megabytes: float) -> tuple[io.BytesIO, int]:
    line = b"X%07d,Zhang San Li Si Wang Wu,2001-02-30,not-an-email\r\n"
    n = int(megabytes * 1024 * 1024) // len(line % 0)
    return io.BytesIO(b"id,name,dob,email\r\n" + b"".join(line % i for i in range(n))), n


def _import_peak(session: Session, data: io.BytesIO, n: int) -> int:
    """The import's peak of Python memory (the file itself was allocated before)."""
    s = school(session, f"School {n}")
    tracemalloc.start()
    try:
        with pytest.raises(Invalid) as info:
            rosters.import_roster(session=session, school_id=s.id, data=data, today=TODAY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(info.value.details) == 1000 and f"{n} bad line(s)" in info.value.message
    return peak


@pytest.mark.slow
def test_memory_stays_flat_whatever_the_number_of_bad_lines(session):  # noqa: ANN001
    """Before, a 20 MB roster of bad lines grew a worker from 270 MB to 1 GB (every error kept,
    the whole file decoded at once) and answered with a 48 MB error body."""
    small = _import_peak(session, *_bad_roster(0.5))
    large = _import_peak(session, *_bad_roster(4))  # 8 times the lines
    assert large < small + 2 * 1024 * 1024, (small, large)
    assert large < 8 * 1024 * 1024, large


@pytest.mark.slow
def test_a_20_mb_roster_of_bad_lines_is_checked_quickly(session):  # noqa: ANN001
    """Before: 18 s."""
    s = school(session)
    data, n = _bad_roster(rosters.MAX_ROSTER_BYTES / 2**20 - 0.01)
    start = time.monotonic()
    with pytest.raises(Invalid) as info:
        rosters.import_roster(session=session, school_id=s.id, data=data, today=TODAY)
    took = time.monotonic() - start
    assert len(info.value.details) == 1000 and f"{n} bad line(s)" in info.value.message
    assert took < 15, f"{took:.0f} s"


# A previous roster that a refused file must leave exactly as it was.
BEFORE = roster_csv(students(3))
GOOD_HEADER = "学号,姓名,出生日期,邮箱\r\n".encode()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=st.one_of(
        st.binary(max_size=400),
        st.builds(lambda b: GOOD_HEADER + b, st.binary(max_size=400)),
        st.builds(
            lambda t: GOOD_HEADER + t.encode("utf-8", "surrogatepass"),
            st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200),
        ),
    )
)
def test_arbitrary_bytes_are_refused_cleanly_or_imported_whole(session, body):  # noqa: ANN001
    """Whatever the bytes: the domain's Invalid or a complete import, never another exception
    and never part of a file (the previous roster stays whole when the file is refused)."""
    s = school(session, f"School {len(session.exec(select(RosterImport)).all())}")
    rosters.import_roster(session=session, school_id=s.id, data=BEFORE, today=TODAY)
    before = _numbers(session, s.id)
    try:
        imp = rosters.import_roster(session=session, school_id=s.id, data=body, today=TODAY)
    except Invalid:
        assert _numbers(session, s.id) == before
        return
    assert imp.status == "done" and imp.imported == len(_numbers(session, s.id)) > 0
