"""Renderers: turn results into text (human, JSON, JUnit, Markdown, metrics, HTML). They return strings."""
