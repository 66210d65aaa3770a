"""app.core.db.Prepared: compiled once, prepared on PostgreSQL, the same rows on both."""

from sqlalchemy import String, bindparam, literal_column, select
from sqlmodel import Session

from app.core.config import Settings
from app.core.db import ONE_ROW, Prepared, autocommit_reads, make_engine
from models.inventory import Item
from tests.factories import item


def test_one_gives_the_same_row_on_both_databases(session):
    item(session, "KN95")
    item(session, "GEL500", tracks_lot=False)
    session.commit()
    read = Prepared(
        select(Item.sku, Item.tracks_lot, literal_column("'fixed'").label("tag"))
        .where(Item.sku == bindparam("sku"), Item.sku != "NOT-THIS")  # a literal it binds itself
        .order_by(Item.id)
    )
    row = read.one(session, {"sku": "GEL500"})
    assert (row.sku, row.tracks_lot, row.tag) == ("GEL500", False, "fixed")
    assert read.one(session, {"sku": "KN95"}).tracks_lot is True


def test_optional_rows_on_the_one_row_base_come_back_as_none(session):
    item(session, "KN95")
    session.commit()
    read = Prepared(
        select(Item.id.label("item_id"))
        .select_from(ONE_ROW)
        .outerjoin(Item, Item.sku == bindparam("sku"))
    )
    assert read.one(session, {"sku": "NOPE"}).item_id is None
    assert read.one(session, {"sku": "KN95"}).item_id is not None


def test_postgres_runs_it_as_a_server_side_prepared_statement(pg_database):
    engine = make_engine(Settings(database_url=pg_database, secret_key="test-secret"))
    try:
        with Session(engine) as session:
            autocommit_reads(session)
            read = Prepared(select(bindparam("word", type_=String).label("echo")))
            assert read.execute(session, {"word": "口罩"}).fetchone().echo == "口罩"
            conn = session.connection().connection.driver_connection
            names = [s for (s,) in conn.execute("SELECT statement FROM pg_prepared_statements")]
            assert any("$1::VARCHAR AS echo" in s for s in names), names
    finally:
        engine.dispose()
