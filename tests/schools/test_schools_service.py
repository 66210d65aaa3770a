"""Schools: domains, e-mail to school, create/update rules, CSV import, demo seed."""

from datetime import date

import pytest
from sqlmodel import select

from app import demo
from app.core.errors import Conflict, Invalid
from app.schools import rosters
from app.schools import service as schools
from models.schools import RosterEntry, School, SchoolUpdate
from tests.schools.factories import school


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Univ.FR", "univ.fr"),
        ("@etu.univ.fr, univ.fr ; univ.fr", "etu.univ.fr,univ.fr"),
        ("student@ec-lyon.fr\n*.ens.fr", "ec-lyon.fr,ens.fr"),
        ("", ""),
    ],
)
def test_domains_are_normalised(raw, stored):
    assert schools.normalize_domains(raw) == stored


@pytest.mark.parametrize("raw", ["univ", "not a domain!", "univ..fr", "-x.fr"])
def test_malformed_domains_are_refused(raw):
    with pytest.raises(Invalid):
        schools.normalize_domains(raw)


def test_school_for_email_matches_domain_and_parents(session):
    saclay = school(session, "Saclay", email_domains="universite-paris-saclay.fr")
    sorbonne = school(
        session, "Sorbonne", email_domains="sorbonne-universite.fr,etu.sorbonne-universite.fr"
    )
    etu = school(session, "Etu only", email_domains="etu.example.fr")

    def found(email):
        s = schools.school_for_email(session=session, email=email)
        return s.id if s else None

    assert found("a@universite-paris-saclay.fr") == saclay.id
    assert found("A@Etudiant.Universite-Paris-Saclay.FR") == saclay.id  # sub-domain
    assert found("a@etu.sorbonne-universite.fr") == sorbonne.id
    assert found("a@x.etu.example.fr") == etu.id
    assert found("a@example.fr") is None  # a parent of a school's domain is not the school
    assert found("a@paris-saclay.fr") is None  # a suffix that is not a parent domain
    assert found("a@fr") is None
    assert found("not-an-address") is None
    assert found("a@gmail.com") is None


def test_school_for_email_prefers_the_most_specific_domain(session):
    school(session, "Umbrella", email_domains="univ.fr")
    lab = school(session, "Lab", email_domains="lab.univ.fr")
    assert schools.school_for_email(session=session, email="x@lab.univ.fr").id == lab.id
    assert schools.school_for_email(session=session, email="x@a.lab.univ.fr").id == lab.id


def test_names_are_unique_and_updates_apply(session):
    a = school(session, "Alpha", email_domains="@Alpha.FR")
    assert a.email_domains == "alpha.fr"
    with pytest.raises(Conflict):
        school(session, "ALPHA")
    b = school(session, "Beta")
    with pytest.raises(Conflict):
        schools.update_school(session=session, school_id=b.id, data=SchoolUpdate(name_en="alpha"))
    session.rollback()
    b = schools.update_school(
        session=session,
        school_id=b.id,
        data=SchoolUpdate(city="Lyon", email_domains="B.fr, c.fr", in_district=False),
    )
    assert (b.city, b.email_domains, b.in_district, b.name_en) == (
        "Lyon",
        "b.fr,c.fr",
        False,
        "Beta",
    )


def test_list_and_public_search(session):
    school(session, "Université Paris-Saclay", name_zh="巴黎萨克雷大学", city="Orsay")
    school(session, "École Centrale de Lyon", name_zh="里昂中央理工学院", city="Écully")
    school(session, "Far Away", city="Nice", in_district=False)
    rows, total = schools.list_schools(session=session, q="萨克雷")
    assert total == 1 and rows[0].city == "Orsay"
    rows, total = schools.list_schools(session=session, q="lyon")
    assert [r.name_en for r in rows] == ["École Centrale de Lyon"]
    _, total = schools.list_schools(session=session, in_district=False)
    assert total == 1
    assert {r["name_en"] for r in schools.public_search(session=session, q="")} == {
        "École Centrale de Lyon",
        "Université Paris-Saclay",
    }
    assert schools.public_search(session=session, q="nice") == []  # outside the district
    assert set(schools.public_search(session=session, q="orsay")[0]) == {
        "id",
        "name_zh",
        "name_en",
        "city",
    }


SCHOOLS_CSV = """中文名,英文名,城市,纬度,经度,邮箱域名,是否在领区
巴黎萨克雷大学,Université Paris-Saclay,Orsay,48.7117,2.17,universite-paris-saclay.fr,是
里昂中央理工学院,École Centrale de Lyon,Écully,45.78,4.77,@ec-lyon.fr,否
"""


def test_school_csv_import_creates_then_updates(session):
    out = schools.import_schools(session=session, data=SCHOOLS_CSV.encode("gb18030"))
    assert out == {"created": 2, "updated": 0}
    lyon = session.exec(select(School).where(School.city == "Écully")).one()
    assert (lyon.email_domains, lyon.in_district, lyon.lat) == ("ec-lyon.fr", False, 45.78)
    again = "name_zh;name_en;city;in_district\n里昂中央理工学院;ECOLE CENTRALE DE LYON;Lyon;yes\n"
    out = schools.import_schools(session=session, data=again.encode())
    assert out == {"created": 0, "updated": 1}
    session.refresh(lyon)
    assert (lyon.city, lyon.in_district) == ("Lyon", True)


def test_school_csv_import_is_all_or_nothing(session):
    bad = (
        "name_zh,name_en,lat,lon,email_domains,in_district\n"
        "甲,Alpha,48.1,2.1,alpha.fr,yes\n"  # 2 good
        "乙,Beta,north,2.1,beta.fr,yes\n"  # 3 lat
        ",Gamma,,,,\n"  # 4 name_zh missing
        "丁,Alpha,,,,\n"  # 5 duplicate English name
        "戊,Epsilon,95,2,,maybe\n"  # 6 lat out of range? and in_district
        "己,Zeta,,,bad domain!,\n"  # 7 domain
    )
    with pytest.raises(Invalid) as info:
        schools.import_schools(session=session, data=bad.encode())
    lines = sorted({d["line"] for d in info.value.details})
    assert lines == [3, 4, 5, 6, 7]
    assert session.exec(select(School)).all() == []


def test_seed_schools_gives_rosters_with_minors(session):
    made = demo.seed_schools(session=session)
    assert len(made) == 5
    sizes = rosters.roster_sizes(session=session, school_ids=[s.id for s in made])
    assert all(sizes[s.id] == 10 for s in made)
    minors = session.exec(
        select(RosterEntry).where(RosterEntry.birth_date > date(2008, 12, 1))
    ).all()
    assert minors and all(m.school_id == made[2].id for m in minors)
    assert schools.school_for_email(session=session, email="a@ec-lyon.fr").id == made[1].id
