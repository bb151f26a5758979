"""`cavra-drill report --out report.html` (registered on the main app)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the report command to `app`. (Not built yet.)"""
