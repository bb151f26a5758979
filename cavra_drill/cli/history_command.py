"""`cavra-drill history` and `cavra-drill history verify` (registered on the main app)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the history commands to `app`. (Not built yet.)"""
