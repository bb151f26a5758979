"""The typer command line: parse, call, render, exit code."""
