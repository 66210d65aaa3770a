"""Roster import: encodings, delimiters, headers, dates, all-or-nothing, replacement, progress."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.core.errors import Invalid
from app.schools import parse as roster_parse
from app.schools import rosters
from models.schools import RosterEntry, RosterImport
from tests.schools.factories import EN_HEADER, ZH_HEADER, roster_csv, school, students

TODAY = date(2026, 11, 28)


def _entries(session, school_id):
    return session.exec(
        select(RosterEntry).where(RosterEntry.school_id == school_id).order_by(RosterEntry.id)
    ).all()


@pytest.mark.parametrize(
    ("encoding", "delimiter", "header"),
    [
        ("utf-8", ",", ZH_HEADER),
        ("utf-8-sig", ",", ZH_HEADER),
        ("gbk", ",", ZH_HEADER),
        ("gb18030", ";", ZH_HEADER),
        ("utf-8", "\t", EN_HEADER),
        ("utf-8-sig", ";", ["STUDENT_NO", "姓名(拼音)", "dob", "Mail"]),
    ],
)
def test_roster_imports_in_every_encoding_and_delimiter(session, encoding, delimiter, header):
    s = school(session)
    rows = students(30)
    data = roster_csv(rows, header=header, delimiter=delimiter, encoding=encoding)
    imp = rosters.import_roster(session=session, school_id=s.id, data=data, filename="r.csv")
    assert imp.status == "done" and imp.imported == 30 and imp.errors == []
    got = _entries(session, s.id)
    assert [(e.student_number, e.name, e.birth_date.isoformat(), e.email) for e in got] == [
        tuple(r) for r in rows
    ]
    assert got[0].name == "张 三0" and got[0].name_norm == "张三0"


def test_gbk_file_is_not_read_as_utf8_mojibake(session):
    s = school(session)
    data = "学号,姓名,出生日期\n001,李四,2008年3月5日\n".encode("gbk")
    rosters.import_roster(session=session, school_id=s.id, data=data)
    [entry] = _entries(session, s.id)
    assert (entry.student_number, entry.name, entry.birth_date) == ("001", "李四", date(2008, 3, 5))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2008-03-05", date(2008, 3, 5)),
        ("2008/3/5", date(2008, 3, 5)),
        ("05/03/2008", date(2008, 3, 5)),
        ("5.3.2008", date(2008, 3, 5)),
        ("2008年3月5日", date(2008, 3, 5)),
        ("20080305", date(2008, 3, 5)),
        ("2008.3.5", date(2008, 3, 5)),
        ("2008-03-05 00:00:00", date(2008, 3, 5)),
        ("２００８－０３－０５", date(2008, 3, 5)),
    ],
)
def test_birth_dates_in_the_usual_spellings(session, text, expected):
    s = school(session)
    data = f"学号,姓名,出生日期\n1,A,{text}\n".encode()
    rosters.import_roster(session=session, school_id=s.id, data=data, today=TODAY)
    assert _entries(session, s.id)[0].birth_date == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2008-02-30", "does not exist"),
        ("31/04/2008", "does not exist"),
        ("March 5th", "not a date we can read"),
        ("2027-01-01", "in the future"),
        ("1920-01-01", "more than 100 years ago"),
    ],
)
def test_bad_birth_dates_are_rejected_with_the_reason(text, words):
    day, err = roster_parse.parse_birth_date(text, today=TODAY)
    assert day is None and words in err.reason


def test_a_broken_file_imports_nothing_and_lists_every_bad_line(session):
    s = school(session)
    future = (date.today() + timedelta(days=30)).isoformat()
    lines = [
        "学号,姓名,出生日期,邮箱",
        "A1,Zhang San,2001-01-01,zs@x.fr",  # 2 good
        "A2,Li Si,2001-02-30,",  # 3 impossible date
        ",Wang Wu,2001-01-03,",  # 4 missing number
        "A1,Zhao Liu,2001-01-04,",  # 5 duplicate of line 2
        "A5,Chen Jing,bad,",  # 6 unreadable date
        "A6,Liu Yang," + future + ",",  # 7 future
        "A7,,2001-01-05,",  # 8 missing name
        "A8,Yang Xue,2001-01-06,not-an-email",  # 9 bad e-mail
        "A9,Huang Lei,2001-01-07,hl@x.fr",  # 10 good
    ]
    with pytest.raises(Invalid) as info:
        rosters.import_roster(session=session, school_id=s.id, data="\n".join(lines).encode())
    details = info.value.details
    assert [(d["line"], d["field"]) for d in details] == [
        (3, "birth_date"),
        (4, "student_number"),
        (5, "student_number"),
        (6, "birth_date"),
        (7, "birth_date"),
        (8, "name"),
        (9, "email"),
    ]
    assert "already appears on line 2" in details[2]["reason"]
    assert "7 bad line(s)" in info.value.message
    assert _entries(session, s.id) == []
    imp = session.exec(select(RosterImport)).one()
    assert imp.status == "failed" and len(imp.errors) == 7 and imp.imported == 0


def test_a_bad_file_leaves_the_existing_roster_untouched(session):
    s = school(session)
    rosters.import_roster(session=session, school_id=s.id, data=roster_csv(students(5)))
    bad = roster_csv(students(3, start=100) + [["X", "Y", "2001-13-01", ""]])
    with pytest.raises(Invalid):
        rosters.import_roster(session=session, school_id=s.id, data=bad)
    assert [e.student_number for e in _entries(session, s.id)] == [f"S{i:06d}" for i in range(5)]


def test_a_good_file_replaces_the_roster(session):
    s = school(session)
    other = school(session, "Other School")
    rosters.import_roster(session=session, school_id=s.id, data=roster_csv(students(5)))
    rosters.import_roster(session=session, school_id=other.id, data=roster_csv(students(2)))
    imp = rosters.import_roster(
        session=session, school_id=s.id, data=roster_csv(students(3, start=50))
    )
    assert imp.imported == 3
    assert [e.student_number for e in _entries(session, s.id)] == ["S000050", "S000051", "S000052"]
    assert len(_entries(session, other.id)) == 2  # other schools untouched


@pytest.mark.parametrize(
    "data",
    [
        "学号,姓名,出生日期\n1,张三,2001-01-01\n".encode("utf-16"),
        "学号,姓名,出生日期\n1,张三,2001-01-01\n".encode("utf-16-le"),
        bytes(range(128, 256)) * 4,
    ],
    ids=["utf16-bom", "utf16-no-bom", "random-bytes"],
)
def test_undecodable_files_are_refused_clearly(session, data):
    s = school(session)
    with pytest.raises(Invalid) as info:
        rosters.import_roster(session=session, school_id=s.id, data=data)
    assert info.value.status_code == 422
    assert "not UTF-8 or GBK" in info.value.message
    assert session.exec(select(RosterImport)).one().status == "failed"


def test_missing_columns_are_named(session):
    s = school(session)
    with pytest.raises(Invalid) as info:
        rosters.import_roster(session=session, school_id=s.id, data=b"number,name\n1,A\n")
    [detail] = info.value.details
    assert detail["line"] == 1 and "birth_date" in detail["reason"]


def test_header_only_file_is_an_error(session):
    s = school(session)
    with pytest.raises(Invalid) as info:
        rosters.import_roster(session=session, school_id=s.id, data=b"id,name,dob\n\n")
    assert "no student lines" in info.value.details[0]["reason"]


def test_progress_is_committed_while_parsing(session, engine):
    """Progress commits during the parse phase are visible from another connection."""
    from sqlmodel import Session

    s = school(session)
    imp = rosters.create_import(session=session, school_id=s.id, filename="big.csv")
    seen = []
    real = rosters.check_roster

    def spy(csv, *, today, progress=None, every=roster_parse.PROGRESS_EVERY):
        def watch(line):
            progress(line)
            with Session(engine) as other:
                row = other.get(RosterImport, imp.id)
                seen.append((row.status, row.processed_lines, row.total_lines))

        return real(csv, today=today, progress=watch, every=1000)

    rosters.check_roster = spy
    try:
        rosters.run_import(session=session, import_id=imp.id, data=roster_csv(students(3500)))
    finally:
        rosters.check_roster = real
    assert seen == [("running", 1001, 3501), ("running", 2001, 3501), ("running", 3001, 3501)]
    done = rosters.get_import(session=session, import_id=imp.id)
    assert (done.status, done.processed_lines, done.imported) == ("done", 3501, 3500)
    assert done.finished_at is not None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Zhang San", "zhangsan"),
        ("ZHANG-SAN", "zhang san"),
        ("Zhang　San", "ＺＨＡＮＧ SAN"),
        ("Zoé O'Brien", "zoe obrien"),
        ("张 三", "张三"),
        ("阿卜杜·热合曼", "阿卜杜热合曼"),
    ],
)
def test_normalize_name_matches_spellings(a, b):
    assert roster_parse.normalize_name(a) == roster_parse.normalize_name(b) != ""


def test_normalize_name_keeps_different_names_apart():
    assert roster_parse.normalize_name("张三") != roster_parse.normalize_name("张山")
    assert roster_parse.normalize_name("Li Si") != roster_parse.normalize_name("Li Shi")
