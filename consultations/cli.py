"""Command-line tasks: first admin, demo data, backup and restore, and ``flask db
upgrade`` taking a backup first."""
from __future__ import annotations

import logging
from pathlib import Path

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import Flask, current_app
from flask_migrate import cli as migrate_cli
from sqlalchemy import func, select

from . import backup as backups
from .extensions import db
from .timeutil import utcnow

log = logging.getLogger(__name__)


def pending_upgrade(revision: str = "head", directory: str | None = None) -> list[str] | None:
    """The revisions ``flask db upgrade <revision>`` would apply to a database that is
    already migrated; ``[]`` for an empty database (no revision yet) or one already there.
    ``None`` when that cannot be worked out (the upgrade itself will say why)."""
    config = current_app.extensions["migrate"].migrate.get_config(directory)
    script = ScriptDirectory.from_config(config)
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    if not current:
        return []
    try:
        return [r.revision for r in script.iterate_revisions(revision, current)]
    except (RevisionError, CommandError):  # unknown or relative revision, several heads...
        log.debug("could not work out the pending migrations", exc_info=True)
        return None


def backup_before_upgrade(app: Flask, revision: str, directory: str | None) -> Path | None:
    """On SQLite, a consistent snapshot of a migrated database about to be upgraded
    (instance/backups/<UTC timestamp>-before-upgrade-from-<revision>.sqlite3)."""
    if db.engine.dialect.name != "sqlite":
        return None
    pending = pending_upgrade(revision, directory)
    if pending == []:
        return None
    with db.engine.connect() as conn:
        current = "-".join(MigrationContext.configure(conn).get_current_heads())
    db.engine.dispose()  # the snapshot needs no connection of ours
    return backups.backup(
        db.engine, None, Path(app.instance_path) / "backups", label=f"before-upgrade-from-{current}"
    )


def _db_group(app: Flask, name: str) -> click.Group:
    """Flask-Migrate's ``flask db`` group, whose ``upgrade`` first backs up a SQLite
    database that has data (``--no-backup`` to skip)."""
    upstream = migrate_cli.upgrade

    @click.pass_context
    def upgrade(ctx: click.Context, no_backup: bool, **kwargs) -> None:
        if not no_backup and not kwargs.get("sql"):
            try:
                written = backup_before_upgrade(app, kwargs["revision"], kwargs.get("directory"))
            except backups.BackupError as exc:
                raise click.ClickException(
                    f"No upgrade: the backup before it failed: {exc} "
                    "(fix that, or upgrade with --no-backup after taking a backup yourself)."
                ) from exc
            if written is not None:
                click.echo(f"Backup of the database before upgrading: {written}")
                click.echo(f"  (to go back: flask --app app restore {written})")
        ctx.invoke(upstream, **kwargs)

    no_backup = click.Option(
        ["--no-backup"], is_flag=True,
        help="SQLite: do not take the snapshot that is otherwise written to instance/backups/ first.",
    )
    command = click.Command(
        "upgrade",
        callback=upgrade,
        params=[*upstream.params, no_backup],
        help=(upstream.help or "") + "\n\nOn SQLite, a database that already has a revision is first "
        "backed up to instance/backups/ (flask backup); the file is printed.",
    )
    original = migrate_cli.db
    group = click.Group(
        name, commands=dict(original.commands), callback=original.callback, params=original.params, help=original.help
    )
    group.add_command(command)
    return group


def init_app(app: Flask) -> None:
    # Replaces the group Flask-Migrate registered (the same commands, upgrade wrapped).
    name = app.extensions["migrate"].migrate.command
    app.cli.add_command(_db_group(app, name), name)

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

    @app.cli.command("worker")
    @click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1, max=32),
                  help="Jobs run at the same time (threads of this process; run more processes for more CPUs).")
    @click.option("--no-periodic", is_flag=True,
                  help="Do not run the schedules (open/close consultations, recovery, cleanup) in this worker.")
    @click.option("--nice", default=10, show_default=True, type=click.IntRange(min=0, max=19),
                  help="Lower CPU priority for the jobs, so that web requests on the same machine go first.")
    def worker_command(workers: int, no_periodic: bool, nice: int) -> None:
        """Run background jobs: documents, e-mail and the schedules (until Ctrl-C or SIGTERM).

        The queue is MESA_QUEUE_URL: by default a SQLite file in the instance folder, in
        production Redis (docs/operations.md). Several workers may serve one queue; only
        one of them needs the schedules (the others take --no-periodic).
        """
        from .jobs import queue

        try:
            queue.run_worker(app, workers=workers, periodic=not no_periodic, nice=nice)
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc

    @app.cli.command("rerender-markdown")
    def rerender_markdown_command() -> None:
        """Render every stored Markdown text again with today's renderer (after an upgrade
        that changes it): contribution bodies, consultation descriptions, roundtable
        agendas and minutes, summary narratives. Published summary versions stay as
        published. Safe to run again; it changes only HTML that differs."""
        from .markdown import rerender_stored

        for column, count in rerender_stored().items():
            click.echo(f"{column}: {count} row{'s' if count != 1 else ''} rendered again")
