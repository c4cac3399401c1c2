"""sgguard shared library: code common to every FunctionGraph function of the project."""
