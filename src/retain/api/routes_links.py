"""Signed customer links, opened without a key: ``/unsubscribe/{token}`` (GET from a message, POST one-click).

Playbook messages carry ``<[automation] base_url>/unsubscribe/<token>`` (:class:`retain.automation.actions.
LinkSigner`), also as the ``List-Unsubscribe`` header; a mail client that honours RFC 8058 POSTs
``List-Unsubscribe=One-Click`` to the same URL, which does the same as opening it. The answer is a small HTML
page with everything inline (no external asset, nothing to load); a bad or expired link gets a 400 page that
says so.
"""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse

from retain.api.security import workspace
from retain.errors import InputError
from retain.services.unsubscribe import unsubscribe
from retain.workspace import Workspace

__all__ = ["router"]

router = APIRouter(tags=["customer links"])

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}</style></head>
<body><h1>{title}</h1><p>{text}</p></body></html>
"""

Token = Annotated[str, Path(max_length=4096, description="The signed token of the link.")]


def _page(title: str, text: str, status: int) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=escape(title), text=escape(text)), status_code=status)


def _answer(ws: Workspace, token: str) -> HTMLResponse:
    try:
        unsubscribe(ws, token)
    except InputError as error:  # not genuine, another purpose, or expired: the message says which
        return _page("This link does not work", str(error), 400)
    return _page("You are unsubscribed", "You will not receive these messages any more.", 200)


_DOC = {
    200: {"content": {"text/html": {}}},
    400: {"description": "A bad or expired link", "content": {"text/html": {}}},
}


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, responses=_DOC, summary="Unsubscribe by link")
def unsubscribe_page(token: Token, ws: Annotated[Workspace, Depends(workspace)]) -> HTMLResponse:
    return _answer(ws, token)


@router.post(
    "/unsubscribe/{token}", response_class=HTMLResponse, responses=_DOC, summary="One-click unsubscribe (RFC 8058)"
)
def unsubscribe_one_click(token: Token, ws: Annotated[Workspace, Depends(workspace)]) -> HTMLResponse:
    return _answer(ws, token)
