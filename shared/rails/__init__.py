"""The guard rails: what no change may do, whoever asks for it.

``guardrails`` (pure, one function per rail), ``access`` (pure: effective access of an ordered
group list, and what a change newly opens to the public; over ``addresses`` and ``matchers``),
``identity`` (is the approver a second person), ``groups`` (the name catalog and the fresh facts
the rails decide on), ``check`` (the one rail step every flow calls).
"""
