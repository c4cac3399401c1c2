"""Changing an interface's ordered group list: ``planning`` (pure: which interfaces, which list,
the fewest calls) and ``apply`` (write, verify, retry safely, roll back)."""
