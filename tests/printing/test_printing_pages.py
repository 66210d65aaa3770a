"""Label printing pages: the form with its count preview, PDF download, progress page, errors."""

from sqlmodel import Session, select

from models.claims import Claim
from tests.factories import PASSWORD
from tests.pickup import factories as pf
from tests.printing import factories as lf


def login(client, n: int = 3, lang: str = "en"):  # noqa: ANN001, ANN201
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        w = pf.world(s, kits=n + 5)
        made = lf.claims(s, w, n)
    client.cookies.set("kitrun_lang", lang)
    client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": "dip",
            "password": PASSWORD,
            "next": "/",
            "csrf_token": client.cookies.get("kitrun_csrf"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return w, made


def post(client, **form):  # noqa: ANN001, ANN201
    data = {"csrf_token": client.cookies.get("kitrun_csrf"), **form}
    return client.post("/admin/labels", data=data, follow_redirects=False)


def statuses(client) -> list[str]:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        return sorted(c.status for c in s.exec(select(Claim)).all())


def test_form_shows_the_count_preview_and_every_format(client):
    w, _ = login(client)
    r = client.get(f"/admin/labels?school_id={w.school.id}&format=L7163&start_position=14")
    assert r.status_code == 200
    assert "3 labels" in r.text and "on 2 sheets" in r.text
    for fid in ("L7160", "L7163", "5160", "thermal-4x6"):
        assert f'value="{fid}"' in r.text
    assert r.text.count('name="start_position"') == 14  # the L7163 sheet's cells
    assert "/admin/labels/calibration.pdf?format=L7163" in r.text
    assert 'href="/admin/labels"' in client.get("/admin").text


def test_preview_button_counts_without_printing(client):
    w, _ = login(client)
    r = post(client, school_id=str(w.school.id), format="5160", action="preview")
    assert r.status_code == 200 and "3 labels" in r.text and "on 1 sheet" in r.text
    assert statuses(client) == ["allocated"] * 3


def test_print_downloads_the_pdf_and_marks_claims_ready(client, tmp_path):
    w, made = login(client)
    r = post(client, school_id=str(w.school.id), format="L7160", start_position="5")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"]
    first = sorted(made, key=lambda c: c.name_latin)[0]
    assert lf.first_label_token(r.content, tmp_path, "L7160", position=5) == first.token
    assert statuses(client) == ["ready"] * 3


def test_errors_rerender_the_form_in_chinese(client):
    login(client, lang="zh_CN")
    r = post(client, format="L7160", start_position="40")
    assert r.status_code == 422 and 'role="alert"' in r.text
    assert "打印标签" in r.text
    r = post(client, status="ready")
    assert r.status_code == 422 and 'role="alert"' in r.text
    r = post(client, school_id="abc")
    assert r.status_code == 422
    assert statuses(client) == ["allocated"] * 3


def test_big_print_goes_to_a_progress_page_then_a_download(client, settings):
    w, _ = login(client, n=4)
    settings.labels_sync_limit = 3
    preview = post(client, campaign_id=str(w.campaign.id), action="preview")
    assert "prepared in the background" in preview.text
    r = post(client, campaign_id=str(w.campaign.id), format="thermal-4x6")
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    # the test client ran the background job before answering: the job is done
    assert "Download the PDF" in page.text and "http-equiv" not in page.text
    href = r.headers["location"] + "/file"
    f = client.get(href)
    assert f.status_code == 200 and f.content.startswith(b"%PDF")
    assert statuses(client) == ["ready"] * 4


def test_calibration_link_gives_a_pdf(client):
    login(client)
    r = client.get("/admin/labels/calibration.pdf?format=5160")
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
