"""Is the approver a second person? The rail's question, answered with :mod:`shared.person`.

An approval only counts when the approver is someone other than the requester. Both names come
from a ticket; the schema already refused any that is not a bare address or a plain principal
name (no display names, brackets, quotes, white space or invisible characters), and
:func:`shared.person.same_person` folds case, NFKC, ``+tags``, IDNA and UTS #39 look-alikes.
Anything that is not a valid identity (a caller that skipped validation) approves nothing.

This stops self-approval by spelling; it does not prove who typed the name. That is the ticketing
system's job, and the request signature proves the ticket came through it (README, threat model).
"""

from __future__ import annotations

from shared.person import identity_problem, same_person

__all__ = ["is_second_person"]


def is_second_person(requested_by: object, approved_by: object) -> bool:
    """True when ``approved_by`` is a valid identity and not the requester under any spelling."""
    if not isinstance(requested_by, str) or not isinstance(approved_by, str):
        return False
    if identity_problem(requested_by) or identity_problem(approved_by):
        return False
    return not same_person(requested_by, approved_by)
