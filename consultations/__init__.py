"""Mesa: multi-stakeholder consultations and roundtables on migration policy."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from flask import Flask

from . import config

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent


def installed() -> bool:
    """True when running from an installed wheel, False from a checkout (editable install,
    ``make run``). The wheel carries templates/, static/ and migrations/ inside the
    package (pyproject.toml); a checkout has them at the top level, beside the package."""
    return (PACKAGE / "templates").is_dir()


def resource_folder(name: str) -> Path:
    """``templates``, ``static`` or ``migrations``: inside the package when installed,
    at the top level of the checkout otherwise."""
    return PACKAGE / name if installed() else ROOT / name


def default_instance_path() -> Path:
    """Where runtime data (SQLite database, secret key, backups) goes without
    MESA_INSTANCE_PATH: ``instance/`` of the checkout, or for an installed wheel
    ``<sys.prefix>/var/mesa-instance`` (never inside site-packages)."""
    if installed():
        return Path(sys.prefix) / "var" / "mesa-instance"
    return ROOT / "instance"


def create_app(test_config: dict | None = None) -> Flask:
    instance_path = os.environ.get("MESA_INSTANCE_PATH") or str(default_instance_path())
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.path.abspath(instance_path),
        template_folder=str(resource_folder("templates")),
        static_folder=str(resource_folder("static")),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
        # Test apps log in hundreds of times: no throttling unless a test asks for it.
        if app.testing and "RATELIMIT_ENABLED" not in test_config:
            app.config["RATELIMIT_ENABLED"] = False
    if app.config.get("MESA_PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["MESA_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from .extensions import csrf, db, limiter, login_manager, migrate
    from . import models  # noqa: F401  (register every table)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_folder("migrations")), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    from . import database, http, web

    database.init_app(app)
    web.init_app(app)
    http.init_app(app)  # before the blueprints: their <int:...> rules take its converter

    from .accounts.routes import bp as accounts_bp
    from .audit.routes import bp as audit_bp
    from .consultations.routes import bp as consultations_bp
    from .contributions.routes import bp as contributions_bp
    from .jobs.routes import bp as jobs_bp
    from .main.routes import bp as main_bp
    from .moderation.routes import bp as moderation_bp
    from .objectives.routes import bp as objectives_bp
    from .organisations.routes import bp as organisations_bp
    from .roundtables.routes import bp as roundtables_bp
    from .summaries.routes import bp as summaries_bp

    for bp in (main_bp, accounts_bp, organisations_bp, consultations_bp, contributions_bp, objectives_bp, roundtables_bp, moderation_bp, audit_bp, summaries_bp):
        app.register_blueprint(bp)
    app.register_blueprint(jobs_bp)

    from .jobs import queue

    queue.configure(app)  # the job queue these settings name (SQLite file, Redis, immediate)

    from . import cli

    cli.init_app(app)

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
        from . import health

        health.check_at_start(app)  # says in the log when the database or Redis is unreachable
    return app
