"""The `counsel-room` command: serve, db, staff accounts, demo content."""

from __future__ import annotations

import asyncio
import getpass
from datetime import timedelta
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from rooms import migrate
from rooms.errors import DomainError
from rooms.models import StaffRole
from server import cli_asr, cli_forms, cli_hall, cli_models
from server.settings import Settings

app = typer.Typer(help="Counsel Room: virtual counseling rooms with live captions.",
                  pretty_exceptions_enable=False,
                  no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cli_models.app, name="models")
app.add_typer(cli_forms.app, name="forms")
app.add_typer(cli_hall.app, name="hall")
app.command("asr-worker")(cli_asr.asr_worker)
console = Console(soft_wrap=True)


def _settings() -> Settings:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run the server."""
    from server.app import create_app
    from server.draining import DrainingServer
    from server.http_guard import guarded_http
    from server.logs import log_config

    settings = _settings()
    app = create_app(settings)
    config = uvicorn.Config(app, host=host or settings.host, port=port or settings.port,
                            http=guarded_http(settings.http_head_timeout_s),
                            ws="websockets-sansio", ws_max_size=1 << 20, proxy_headers=True,
                            log_level="info", log_config=log_config(settings.log_format))
    server = DrainingServer(config, app)
    server.run()
    if not server.started:  # as uvicorn.run: the port was taken, the app did not start
        raise typer.Exit(3)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the database schema."""
    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    console.print(f"[green]Database is at {revision}[/green]")


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision."""
    migrate.current(_settings().database_url)


@app.command("create-staff")
def create_staff(
    email: str,
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[StaffRole, typer.Option(help="admin, counselor or interpreter.")] = (
        StaffRole.COUNSELOR),
    password: Annotated[str | None, typer.Option(help="Asked for when not given.")] = None,
) -> None:
    """Create a staff account."""
    from server import setup

    secret = password or getpass.getpass("Password (at least 10 characters): ")
    try:
        asyncio.run(setup.create_staff_account(_settings(), email, name, role, secret))
    except (ValueError, DomainError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"[green]Created {role.value} {email}[/green]")


@app.command()
def demo(base_url: str = "http://127.0.0.1:8000") -> None:
    """Create a demo counselor and a demo room with an invitation, and print how to use them."""
    from server import setup

    settings = _settings()
    info = asyncio.run(setup.create_demo(settings, base_url, timedelta(days=7)))
    forms = asyncio.run(cli_forms.load_into(settings))
    asyncio.run(cli_hall.load_into(settings))
    console.print("\n[bold]Counsel Room demo[/bold]")
    console.print(f"  Staff sign-in:    {base_url}/staff/login")
    console.print(f"  Email / password: {info.email} / {info.password}")
    console.print(f"  Demo room:        {info.room_title}")
    console.print(f"  Worker invite:    {info.short_link}  (in full: {info.invite_link})")
    console.print(f"  Verification code: {info.code}")
    console.print(f"  Example forms:    {', '.join(forms)} ({base_url}/staff/forms)")
    console.print(f"  Program hall:     {base_url}/hall (no sign-in)\n")


def main() -> None:
    app()
