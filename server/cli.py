import click

@click.group()
def main() -> None:
    """bekal command line."""
