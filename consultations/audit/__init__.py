"""Audit log: who did what to what, for the administrators to read."""
