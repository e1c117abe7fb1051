"""The dashboard's reconnect backoff is the project's one backoff (backend/backoff.py)."""

from __future__ import annotations

from backend.backoff import Backoff

__all__ = ["Backoff"]
