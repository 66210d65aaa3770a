"""`kitrun labels`: print kit labels for a selection of claims into a PDF, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def labels(
    out: Annotated[Path, typer.Option("--out", help="PDF file to write")],
    campaign: Annotated[int | None, typer.Option("--campaign", help="Campaign id")] = None,
    school: Annotated[int | None, typer.Option("--school", help="School id")] = None,
    point: Annotated[int | None, typer.Option("--point", help="Pickup point id")] = None,
    run: Annotated[int | None, typer.Option("--run", help="Delivery run id")] = None,
    status: Annotated[
        str, typer.Option("--status", help="Claim status(es), comma-separated")
    ] = "allocated,ready",
    format: Annotated[  # noqa: A002
        str, typer.Option("--format", help="L7160, L7163, 5160 or thermal-4x6")
    ] = "L7160",
    start: Annotated[int, typer.Option("--start", help="First free position on the sheet")] = 1,
    lang: Annotated[str, typer.Option("--lang", help="Language of the labels: zh_CN or en")] = (
        "zh_CN"
    ),
) -> None:
    """Print kit labels into a PDF; allocated claims become ready."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from app.core.config import get_settings
    from app.core.db import make_engine, session_scope
    from app.core.errors import DomainError
    from app.core.i18n import normalize
    from app.printing import service as printing
    from models.printing import LabelsIn

    settings = get_settings()
    data = LabelsIn(
        campaign_id=campaign,
        school_id=school,
        location_id=point,
        run_id=run,
        status=status,
        format=format,
        start_position=start,
    )
    part = out.with_name(f".{out.name}.part")
    try:
        with session_scope(make_engine(settings)) as session:
            total = printing.count(session=session, sel=data)
            printing.sheet_format(data.format, data.start_position)
            bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            with bar, open(part, "wb") as fh:
                task = bar.add_task("labels", total=total)
                _, n = printing.print_labels(
                    session=session,
                    settings=settings,
                    data=data,
                    user_id=None,
                    locale=normalize(lang),
                    out=fh,
                    progress=lambda done, _total: bar.update(task, completed=done),
                )
        part.replace(out)
    except DomainError as exc:
        part.unlink(missing_ok=True)
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    except OSError as exc:
        part.unlink(missing_ok=True)
        typer.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    sheets = printing.sheets(n, data.format, data.start_position)
    typer.echo(f"{n} labels on {sheets} sheet(s) written to {out}")
