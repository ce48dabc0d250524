"""`python -m kreiswissen`: the same command as the `kreiswissen` script (the CLI sits on top, in cli/)."""

from cli.main import app

if __name__ == "__main__":
    app()
