"""The `kubewise` command line (Typer + Rich): `main` builds the app, one module per command group.

Entry point `kubewise = kubewise.cli.main:app` (pyproject). `savings` is the command; `inputs`,
`constraints`, `render` and `progress` are its input, option-checking, table and progress parts.
"""
