"""The guard rails: what no change may do, whoever asks for it.

``guardrails`` (pure, one function per rail), ``exposure`` (pure: which risky ports are reachable
from whom), ``identity`` (is the approver a second person), ``groups`` (the name catalog and the
fresh facts the rails decide on), ``check`` (the one rail step every flow calls).
"""
