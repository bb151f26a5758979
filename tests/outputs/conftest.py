"""The CI-output tests use the suite-wide `drills` fixture (tests/conftest.py)."""
