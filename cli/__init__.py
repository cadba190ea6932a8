"""The `nhacviec` command line (Typer + Rich)."""
