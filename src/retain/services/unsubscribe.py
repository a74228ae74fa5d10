"""A customer unsubscribes with the signed link of a message: verified, then put on the suppression list."""

from __future__ import annotations

from dataclasses import dataclass

from retain.automation.actions import UNSUBSCRIBE
from retain.automation.signing import InvalidLinkError, verify_link
from retain.automation.suppression import suppress
from retain.services.playbook_run import signing_secret
from retain.state.tables import ListedReason
from retain.workspace import Workspace

__all__ = ["Unsubscribed", "unsubscribe"]


@dataclass(frozen=True)
class Unsubscribed:
    customer_id: str
    listed_as: ListedReason
    """What the suppression list now says: ``unsubscribed``, or a stronger reason the customer already had."""


def unsubscribe(ws: Workspace, token: str) -> Unsubscribed:
    """Put the customer an unsubscribe token names on the suppression list (again: harmless).

    Raises
    ------
    LinkError
        The token is not genuine (:class:`InvalidLinkError`), was made for another purpose or has expired; the
        message says which, for the customer to read.
    """
    secret = signing_secret(ws, create=False)
    if secret is None:  # this workspace never signed a link, so no token can be genuine
        raise InvalidLinkError("This link is not valid: it was not issued by this service.")
    now = ws.clock.now()
    link = verify_link(secret, token, purpose=UNSUBSCRIBE, now=now)
    with ws.transaction() as connection:
        listed = suppress(connection, link.customer_id, ListedReason.UNSUBSCRIBED, at=now)
    return Unsubscribed(link.customer_id, listed)
