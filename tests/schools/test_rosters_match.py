"""Matching a student against a roster, as the claims eligibility service does."""

from datetime import date

import pytest

from app.schools import rosters
from tests.schools.factories import school

ROSTER = """学号,姓名,出生日期,邮箱
e2024001,Zhang San,2001-03-05,Zhang.San@Etu.Univ.fr
2024002,李四,2002-04-06,
2024003,WANG Xiao-Ming,2003-05-07,wxm@etu.univ.fr
"""


@pytest.fixture
def sid(session):
    s = school(session)
    other = school(session, "Other")
    rosters.import_roster(session=session, school_id=s.id, data=ROSTER.encode())
    rosters.import_roster(
        session=session, school_id=other.id, data=b"id,name,dob\n999,Nobody,2001-01-01\n"
    )
    return s.id


@pytest.mark.parametrize(
    ("number", "born", "names", "expected"),
    [
        ("E2024001", date(2001, 3, 5), ["Zhang San"], "E2024001"),
        ("e2024001", date(2001, 3, 5), ["张三", "zhang-san"], "E2024001"),  # either name
        (" E2024001 ", date(2001, 3, 5), ["San ZHANG"], "E2024001"),  # passport order
        ("2024002", date(2002, 4, 6), ["Li Si", "李四"], "2024002"),
        ("2024003", date(2003, 5, 7), ["wang xiaoming"], "2024003"),
        ("2024003", date(2003, 5, 7), ["Xiaoming Wang"], "2024003"),
        ("E2024001", date(2001, 3, 6), ["Zhang San"], None),  # wrong birth date
        ("E2024001", date(2001, 3, 5), ["Zhang Shan"], None),  # wrong name
        ("2024002", date(2002, 4, 6), ["Li Si"], None),  # roster has only the Chinese name
        ("E2024009", date(2001, 3, 5), ["Zhang San"], None),  # unknown number
        ("", date(2001, 3, 5), ["Zhang San"], None),
        ("E2024001", date(2001, 3, 5), [], None),
        ("999", date(2001, 1, 1), ["Nobody"], None),  # another school's student
    ],
)
def test_match_student(session, sid, number, born, names, expected):
    entry = rosters.match_student(
        session=session, school_id=sid, student_number=number, birth_date=born, names=names
    )
    assert (entry.student_number if entry else None) == expected


def test_roster_has_email(session, sid):
    assert rosters.roster_has_email(session=session, school_id=sid, email="zhang.san@etu.univ.fr")
    assert rosters.roster_has_email(session=session, school_id=sid, email=" WXM@etu.univ.fr ")
    assert not rosters.roster_has_email(session=session, school_id=sid, email="x@etu.univ.fr")
    assert not rosters.roster_has_email(session=session, school_id=sid, email="")
    assert not rosters.roster_has_email(session=session, school_id=sid + 1, email="wxm@etu.univ.fr")
