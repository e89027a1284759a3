"""Command-line tasks: first admin, demo data."""
from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import func, select

from .extensions import db


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
