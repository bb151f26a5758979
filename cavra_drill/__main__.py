"""`python -m cavra_drill` runs the same command line as the `cavra-drill` script."""

from cavra_drill.cli.main import run_cli

if __name__ == "__main__":
    run_cli()
