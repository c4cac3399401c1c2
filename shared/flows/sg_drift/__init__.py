"""sg_drift: changes made outside sgguard found and (in enforce mode) repaired. ``steps`` (event
driven), ``findings`` (pure: what differs and the repair plan), ``sweep`` (the scheduled sweep of
every server), ``continuation`` (a sweep out of time continues itself)."""
