"""The kitrun command: serve, migrate, demo data, users, and operator checks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from app.core import logs
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
    """Serve the app: gunicorn with uvicorn workers (they share only the database)."""
    try:
        get_settings().secret  # noqa: B018  (fail fast without a production key)
        get_settings().trusted_proxy_list  # noqa: B018  (or with a proxy that is no address)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    log_level = get_settings().log_level
    if reload:  # development: uvicorn's reloader, one process
        import uvicorn

        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            reload=True,
            proxy_headers=False,
            access_log=False,
            log_level=log_level.lower(),
            log_config=None,  # our format (app/core/logs.py), set up by main()
        )
        return
    from app import server

    try:
        server.run(host=host, port=port, workers=workers, log_level=log_level)
    except Exception as exc:  # the app could not be built (before any worker): say so, exit 3
        typer.echo(f"error: kitrun could not start: {exc}", err=True)
        raise typer.Exit(3) from exc


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


@cli.command("backup")
def backup_database(
    out: Annotated[
        Path | None,
        typer.Option(help="file, or directory for the default name (default: DATA_DIR/backups)"),
    ] = None,
    keep: Annotated[
        int | None,
        typer.Option(min=1, help="then delete all but the newest N kitrun-* backups there"),
    ] = None,
) -> None:
    """Back up the database while the app runs (pg_dump -Fc, or SQLite's online backup)."""
    from app.core import backup as backups

    try:
        path = backups.backup(get_settings(), out=out)
        pruned = backups.prune(path.parent, keep) if keep else []
    except backups.BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"backup written: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    for old in pruned:
        typer.echo(f"deleted old backup {old}")


@cli.command("restore")
def restore_database(
    path: Annotated[Path, typer.Argument(help="a file written by kitrun backup")],
    force: Annotated[
        bool, typer.Option("--force", help="replace a database that holds data")
    ] = False,
) -> None:
    """Restore a backup into the configured database (stop the app first); a database that
    holds data is replaced only with --force."""
    from app.core import backup as backups

    try:
        restored = backups.restore(get_settings(), path, force=force)
    except backups.BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"restored {path} (migration revision {restored.revision})")
    if restored.behind:
        typer.echo(
            f"the database is behind this code's migrations ({restored.head}): "
            "run `kitrun migrate` before starting the app"
        )


def main() -> None:
    try:
        log_format = get_settings().log_format
    except ValueError:  # an invalid setting: the command itself reports it
        log_format = "text"
    logs.configure(log_format, logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        cli()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
