"""The kitrun command: serve, migrate, demo data, users, and operator checks."""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from app.core.config import ConfigError, get_settings
from app.printing.cli import labels as labels_command

cli = typer.Typer(
    help="kitrun: health-kit distribution logistics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
user_cli = typer.Typer(help="Staff accounts.", no_args_is_help=True)
cli.add_typer(user_cli, name="user")
stock_cli = typer.Typer(help="Stock ledger checks.", no_args_is_help=True)
cli.add_typer(stock_cli, name="stock")
privacy_cli = typer.Typer(help="Personal data: retention.", no_args_is_help=True)
cli.add_typer(privacy_cli, name="privacy")
cli.command("labels")(labels_command)


def _engine():  # noqa: ANN202
    from app.core.db import make_engine

    return make_engine(get_settings())


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code change (development)")] = False,
) -> None:
    """Serve the app with uvicorn (several workers share only the database)."""
    import uvicorn

    try:
        get_settings().secret  # noqa: B018  (fail fast without a production key)
        get_settings().trusted_proxy_list  # noqa: B018  (or with a proxy that is no address)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    from app import workers as worker_processes

    options = {
        "app": "app.main:create_app",
        "factory": True,
        # X-Forwarded-For is read by the app itself, trusting only KITRUN_TRUSTED_PROXIES
        # (app/main.py), so the same rule holds under any server
        "proxy_headers": False,
        "log_level": get_settings().log_level.lower(),
        "access_log": False,  # our middleware logs without paths that may carry tokens
    }
    if workers > 1 and not reload and worker_processes.available():
        # one listening socket per worker: connections spread evenly (app/workers.py)
        worker_processes.run(options, host=host, port=port, workers=workers)
        return
    uvicorn.run(**options, host=host, port=port, workers=None if reload else workers, reload=reload)


@cli.command()
def migrate(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply database migrations (Alembic) up to a revision, by default the newest."""
    from app.migrate import upgrade

    settings = get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url, revision)
    typer.echo(f"database at {revision}")


@cli.command()
def demo() -> None:
    """Seed demo data when the database is empty; prints the demo passwords once."""
    from app import demo as demo_service
    from app.core.db import session_scope

    settings = get_settings()
    with session_scope(_engine()) as session:
        created = demo_service.seed(session=session)
        public_id = session.info.get("demo_campaign")
    if not created:
        typer.echo("database already has data; demo data not added")
        return
    typer.echo(f"demo data added. Log in at {settings.base_url}/login with:")
    for username, password, role in created:
        typer.echo(f"  {role:<10} username: {username:<10} password: {password}")
    typer.echo("(these passwords are shown only this once)")
    typer.echo(f"Students claim a kit at {settings.base_url}/claim/{public_id}")
    typer.echo("  try: Université Paris-Saclay, student number PS2024000, Zhang San, 2001-03-05")


@user_cli.command("create")
def user_create(
    username: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="diplomat, volunteer or driver")],
    password: Annotated[str | None, typer.Option(help="prompted for when not given")] = None,
    display_name: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a staff account."""
    from app.accounts import service as accounts
    from app.core.db import session_scope
    from app.core.errors import DomainError

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope(_engine()) as session:
        try:
            user = accounts.create_user(
                session=session,
                username=username,
                password=password,
                role=role,
                display_name=display_name,
            )
        except DomainError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"created {user.role} {user.username}")


@user_cli.command("passwd")
def user_passwd(
    username: Annotated[str, typer.Option()],
    password: Annotated[str | None, typer.Option(help="prompted for when not given")] = None,
) -> None:
    """Set a user's password (revokes their sessions and tokens)."""
    from app.accounts import service as accounts
    from app.core.db import session_scope
    from app.core.errors import DomainError

    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with session_scope(_engine()) as session:
        try:
            accounts.set_password(session=session, username=username, password=password)
        except DomainError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"password of {username} changed")


@stock_cli.command("check")
def stock_check() -> None:
    """Recompute every level from the ledger; exit 1 naming each mismatch."""
    from app.core.db import session_scope
    from app.inventory import ledger

    with session_scope(_engine()) as session:
        problems = ledger.check(session)
    if problems:
        for p in problems:
            typer.echo(f"MISMATCH {p}", err=True)
        typer.echo(f"{len(problems)} level(s) differ from the ledger", err=True)
        raise typer.Exit(1)
    typer.echo("stock levels equal the ledger")


@privacy_cli.command("purge")
def privacy_purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print what would be erased, change nothing")
    ] = False,
) -> None:
    """Erase students' personal data past its campaign's retention period (minors first), and
    label PDFs, outbox mails and roster import errors past file_retention_days."""
    from sqlmodel import Session

    from app.privacy import retention

    settings = get_settings()
    engine = _engine()
    with Session(engine) as session:
        report = retention.purge(session, settings, dry_run=dry_run)
    verb = "would erase" if dry_run else "erased"
    for item in report.claims:
        who = "minors' claims" if item.minors else "claims"
        typer.echo(
            f"{verb} {item.claims} {who} of campaign {item.campaign_id} ({item.campaign}, "
            f"closed {item.closed_at:%Y-%m-%d})"
        )
    typer.echo(f"{verb} {report.roster_entries} roster line(s) of schools with no campaign left")
    typer.echo(f"{verb} {report.files} file(s) (label PDFs, outbox mails)")
    if not report.claims and not report.roster_entries and not report.files:
        typer.echo("nothing is past its retention period")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        cli()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
