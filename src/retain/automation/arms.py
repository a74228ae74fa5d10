"""Arms of a playbook: which enrolled customers are contacted and which are held out, by a stored hash.

A customer's arm in a playbook is decided by :func:`arm_value`, a number uniform in ``[0, 1)`` read from the
SHA-256 of the salt, the playbook's name and the customer id; the customer is held out when it is below the
playbook's ``holdout`` share. The arm is stored on the enrolment, so nothing recomputes it later.

**The salt** (:func:`arm_salt`) is made from the workspace id and the playbook's *name* — not its version — so
editing a playbook (a new version) does not reshuffle who is held out, and two workspaces (or two playbooks)
draw independent arms for the same customer. It is recorded on every enrolment with the share it was drawn
with. A customer keeps one arm per playbook however often they enter it (a new trigger key hashes the same),
which keeps re-entries from mixing the arms. Changing ``holdout`` moves only the customers whose value lies
between the old and the new share, and only for enrolments made after the change.
"""

from __future__ import annotations

import hashlib
import json

from retain.errors import InputError
from retain.state.tables import Arm

__all__ = ["Arm", "arm", "arm_salt", "arm_value"]

_SALT_CHARS = 32
_SCALE = float(1 << 64)


def arm_salt(workspace_id: str, playbook: str) -> str:
    """The salt of ``playbook``'s arms in the workspace ``workspace_id``: 32 hex digits.

    Examples
    --------
    >>> arm_salt("7f0c5c1e-0000-4000-8000-000000000000", "wake_up")
    'fb31f8308e299de148e43e4590b6b427'
    """
    if not workspace_id or not playbook:
        raise InputError(f"An arm salt needs a workspace id and a playbook name, got {workspace_id!r}, {playbook!r}.")
    text = json.dumps(["retain-arm-salt", workspace_id, playbook])
    return hashlib.sha256(text.encode()).hexdigest()[:_SALT_CHARS]


def arm_value(playbook: str, customer_id: str, salt: str) -> float:
    """A number uniform in ``[0, 1)``: the first 64 bits of SHA-256 over (salt, playbook, customer), divided by 2**64.

    Deterministic: the same three inputs give the same number on every machine and Python version.
    """
    text = json.dumps([salt, playbook, customer_id], ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def arm(playbook: str, customer_id: str, salt: str, holdout_share: float) -> Arm:
    """The arm of ``customer_id`` in ``playbook``: :attr:`Arm.HOLDOUT` when :func:`arm_value` < ``holdout_share``.

    Parameters
    ----------
    playbook
        The playbook's name.
    customer_id
        The customer.
    salt
        :func:`arm_salt` of the workspace and playbook.
    holdout_share
        The playbook's ``holdout``, in ``[0, 1]`` (a playbook file allows ``0 < holdout <= 0.5``).

    Raises
    ------
    InputError
        ``holdout_share`` outside ``[0, 1]``.
    """
    if not 0.0 <= holdout_share <= 1.0:
        raise InputError(
            f"holdout share must be between 0 and 1, got {holdout_share!r}; a playbook's holdout is e.g. 0.1."
        )
    return Arm.HOLDOUT if arm_value(playbook, customer_id, salt) < holdout_share else Arm.TREATMENT
