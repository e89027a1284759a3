"""Background jobs: documents, mail and schedules, on one queue (Huey), with the truth
about each job in Mesa's own database (the ``jobs`` table)."""
