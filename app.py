"""Entry point from a checkout: ``flask --app app run`` or ``gunicorn app:app``.

An installed Mesa (a wheel, ``pip install .``) has no app.py: use
``flask --app consultations ...`` and ``gunicorn 'consultations:create_app()'``
(docs/operations.md, "Installing and starting")."""
from consultations import create_app

app = create_app()
