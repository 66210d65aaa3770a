"""Label printing API: PDF for small selections, background jobs for big ones, errors, access."""

import pytest
from sqlmodel import Session, select

from models.claims import Claim
from tests.factories import PASSWORD
from tests.pickup import factories as pf
from tests.printing import factories as lf


def setup(client, n: int = 3):  # noqa: ANN001, ANN201
    with Session(client.app.state.engine, expire_on_commit=False) as s:
        w = pf.world(s, kits=n + 5)
        made = lf.claims(s, w, n)
    return w, made


def bearer(client, username: str = "dip"):  # noqa: ANN001, ANN201
    r = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def statuses(client) -> list[str]:  # noqa: ANN001
    with Session(client.app.state.engine) as s:
        return sorted(c.status for c in s.exec(select(Claim)).all())


def test_small_selection_returns_a_pdf_and_marks_claims_ready(client, tmp_path):
    w, made = setup(client)
    r = client.post(
        "/api/v1/labels",
        json={"school_id": w.school.id, "format": "5160", "start_position": 4},
        headers=bearer(client),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["x-label-count"] == "3"
    first = sorted(made, key=lambda c: c.name_latin)[0]
    assert lf.first_label_token(r.content, tmp_path, "5160", position=4) == first.token
    assert statuses(client) == ["ready"] * 3


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"format": "L9999"}, 422, "Unknown label format"),
        ({"format": "L7163", "start_position": 15}, 422, "off the sheet"),
        ({"status": "ready"}, 422, "nothing to print"),
        ({"school_id": 424242}, 404, "school"),
        ({"start_position": "x"}, 422, "start_position"),
    ],
)
def test_bad_requests_are_4xx_and_change_nothing(client, body, status, words):
    setup(client)
    r = client.post("/api/v1/labels", json=body, headers=bearer(client))
    assert r.status_code == status, r.text
    assert words in r.text
    assert statuses(client) == ["allocated"] * 3


def test_big_selection_is_a_background_job_to_poll(client, settings, tmp_path):
    w, made = setup(client, n=4)
    settings.labels_sync_limit = 2
    h = bearer(client)
    r = client.post("/api/v1/labels", json={"campaign_id": w.campaign.id}, headers=h)
    assert r.status_code == 202, r.text
    url = r.headers["location"]
    assert url == f"/api/v1/print-jobs/{r.json()['id']}"
    assert r.json()["total"] == 4
    for _ in range(100):
        job = client.get(url, headers=h).json()
        if job["status"] in ("done", "failed"):
            break
    assert job["status"] == "done", job
    assert job["done"] == 4 and job["file_url"] == url + "/file"
    f = client.get(job["file_url"], headers=h)
    assert f.status_code == 200 and f.headers["content-type"] == "application/pdf"
    first = sorted(made, key=lambda c: c.name_latin)[0]
    assert lf.first_label_token(f.content, tmp_path, "L7160") == first.token
    assert statuses(client) == ["ready"] * 4


def test_unknown_job_and_unfinished_file(client):
    h = (setup(client), bearer(client))[1]
    assert client.get("/api/v1/print-jobs/999", headers=h).status_code == 404
    assert client.get("/api/v1/print-jobs/999/file", headers=h).status_code == 404


def test_calibration_page(client):
    setup(client)
    h = bearer(client)
    r = client.get("/api/v1/labels/calibration.pdf?format=thermal-4x6", headers=h)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    r = client.get("/api/v1/labels/calibration.pdf?format=A0", headers=h)
    assert r.status_code == 422 and "Unknown label format" in r.text


def test_only_diplomats_print(client):
    w, _ = setup(client)
    r = client.post("/api/v1/labels", json={}, headers=bearer(client, "vol"))
    assert r.status_code == 403
    assert client.post("/api/v1/labels", json={}).status_code == 401
    assert client.get("/api/v1/print-jobs/1").status_code == 401
    assert statuses(client) == ["allocated"] * 3


def test_printed_claims_print_again_in_another_format(client, tmp_path):
    """Printing marks claims ready; the default selection (allocated and ready) still holds
    them, so the same claims print again on another sheet, never "No claims match"."""
    w, made = setup(client)
    h = bearer(client)
    first = sorted(made, key=lambda c: c.name_latin)[0]
    r = client.post("/api/v1/labels", json={"school_id": w.school.id, "format": "L7160"}, headers=h)
    assert r.status_code == 200 and r.headers["x-label-count"] == "3", r.text
    assert statuses(client) == ["ready"] * 3
    r = client.post(
        "/api/v1/labels", json={"school_id": w.school.id, "format": "thermal-4x6"}, headers=h
    )
    assert r.status_code == 200 and r.headers["x-label-count"] == "3", r.text
    assert lf.first_label_token(r.content, tmp_path, "thermal-4x6", position=1) == first.token
    assert statuses(client) == ["ready"] * 3


@pytest.mark.parametrize(
    ("lang", "mine", "other"),
    [("zh_CN", "巴黎大学", "University of Paris"), ("en", "University of Paris", "巴黎大学")],
)
def test_labels_name_the_school_in_the_readers_language(client, tmp_path, lang, mine, other):
    import subprocess

    w, made = setup(client, 1)
    r = client.post(
        f"/api/v1/labels?lang={lang}", json={"school_id": w.school.id}, headers=bearer(client)
    )
    assert r.status_code == 200, r.text
    pdf = tmp_path / "labels.pdf"
    pdf.write_bytes(r.content)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert mine in text and other not in text
    # the student's two names both stay: the passport name is what an ID check reads
    assert made[0].name_latin in text
