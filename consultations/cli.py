"""Command-line tasks: first admin, demo data, backup and restore."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from . import backup as backups
from .extensions import db
from .timeutil import utcnow


def init_app(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--name", "display_name", prompt="Name")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def create_admin(email: str, display_name: str, password: str) -> None:
        """Create an administrator account (or make an existing account admin)."""
        from .accounts import services

        user = services.find_by_email(email)
        try:
            if user is None:
                user = services.register_user(email, display_name, password, role="admin")
            else:
                services.set_role(user, "admin")
                if user.email_confirmed_at is None:  # the operator vouches for the address
                    user.email_confirmed_at = utcnow()
        except services.AccountError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from exc
        db.session.commit()
        click.echo(f"Administrator ready: {user.email}")

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when consultations already exist.")
    def demo(if_empty: bool) -> None:
        """Load demo consultations built from the seed documents, and print the demo logins."""
        from .consultations.models import Consultation
        from .demo import DEMO_ACCOUNTS, load_demo

        existing = db.session.scalar(select(func.count()).select_from(Consultation))
        if existing and if_empty:
            click.echo("Demo data already loaded (the database has consultations).")
        elif existing:
            raise click.ClickException(
                "The database already has consultations: the demo loads into an empty database only."
            )
        else:
            load_demo()
            db.session.commit()
            click.echo("Demo data loaded.")
        click.echo("")
        click.echo("Demo logins (role, e-mail, password):")
        for role, email, password in DEMO_ACCOUNTS:
            click.echo(f"  {role:<12} {email:<36} {password}")

    @app.cli.command("purge-unconfirmed")
    @click.option("--days", default=7, show_default=True, type=click.IntRange(min=1),
                  help="Delete accounts registered more than this many days ago and never confirmed.")
    def purge_unconfirmed_command(days: int) -> None:
        """Delete accounts whose e-mail address was never confirmed (run it daily from cron)."""
        from .accounts.services import purge_unconfirmed

        count = purge_unconfirmed(days)
        db.session.commit()
        click.echo(f"Deleted {count} unconfirmed account{'s' if count != 1 else ''}.")

    @app.cli.command("backup")
    @click.argument("path", required=False, type=click.Path(dir_okay=True, path_type=Path))
    def backup_command(path: Path | None) -> None:
        """Write a consistent snapshot of the database to PATH.

        Default: instance/backups/<UTC timestamp>.sqlite3 (SQLite, online backup API) or
        .dump (PostgreSQL, pg_dump custom format). A directory as PATH gets a file with
        that name inside it. The app may keep serving while it runs.
        """
        try:
            written = backups.backup(db.engine, path, Path(app.instance_path) / "backups")
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Backup written: {written}")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(path: Path, yes: bool) -> None:
        """Replace the database's content with the backup at PATH.

        Stop the app first: connections still open on the database would see the old
        data (SQLite) or block the restore (PostgreSQL). Afterwards run
        ``flask --app app db upgrade`` if the backup is older than the code.
        """
        target = db.engine.url.render_as_string(hide_password=True)
        if not yes:
            click.confirm(f"Replace everything in {target} with {path}?", abort=True)
        db.session.remove()
        try:
            backups.restore(db.engine, path)
        except backups.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Restored {path} into {target}.")
