"""``sgguard``: one command for everything around the functions (package, deploy, preflight, run
locally, sign and submit change requests, show a server, validate a policy, benchmark).

The entry point is :func:`sgguard_cli.main.main` (``[project.scripts] sgguard``); one module per
subcommand under :mod:`sgguard_cli.commands`; the deploy tool under :mod:`sgguard_cli.deployer`.
"""
