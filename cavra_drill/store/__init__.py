"""Durable files: atomic writes and the locked drill-history append."""
