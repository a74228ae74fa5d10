"""``/unsubscribe/{token}``: a genuine link (opened, or POSTed one-click) puts the customer on the suppression list;
any other gets a 400 page that says why. The pages load nothing from elsewhere."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from retain.automation.actions import SURVEY, UNSUBSCRIBE, LinkSigner
from retain.services.playbook_run import signing_secret
from retain.state.tables import suppression_list


def _listed(ws) -> dict[str, tuple[str, object]]:
    with ws.connect() as connection:
        rows = connection.execute(sa.select(suppression_list)).all()
    return {row.customer_id: (row.reason, row.at) for row in rows}


def _path(url: str) -> str:
    return url.removeprefix("http://retain.example.com")


def _self_contained(html: str) -> bool:
    return "<script" not in html and "<link" not in html and "src=" not in html and "url(" not in html


def test_a_genuine_link_unsubscribes_once_by_get_or_one_click_post(client, api_workspace, clock):
    signer = LinkSigner(signing_secret(api_workspace), "http://retain.example.com", days=30)
    opened = client.get(_path(signer.url(UNSUBSCRIBE, "C1", at=clock.now())))
    assert opened.status_code == 200 and opened.headers["content-type"].startswith("text/html")
    assert "You are unsubscribed" in opened.text and _self_contained(opened.text)
    assert _listed(api_workspace) == {"C1": ("unsubscribed", clock.now())}

    clock.advance(days=1)
    one_click = client.post(
        _path(signer.url(UNSUBSCRIBE, "C2", at=clock.now())),
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200 and "You are unsubscribed" in one_click.text
    again = client.get(_path(signer.url(UNSUBSCRIBE, "C1", at=clock.now())))
    assert again.status_code == 200
    first_day = clock.now() - timedelta(days=1)
    assert _listed(api_workspace) == {"C1": ("unsubscribed", first_day), "C2": ("unsubscribed", clock.now())}


def test_bad_links_get_a_400_page_that_says_why(client, api_workspace, clock):
    signer = LinkSigner(signing_secret(api_workspace), "http://retain.example.com", days=30)
    genuine = _path(signer.url(UNSUBSCRIBE, "C1", at=clock.now()))
    payload, signature = genuine.rsplit("/", 1)[1].split(".")
    tampered = f"/unsubscribe/{payload}.{signature[:-2]}xx"
    survey = "/unsubscribe/" + signer.url(SURVEY, "C1", at=clock.now()).rsplit("/", 1)[1]
    for path, says in (
        (tampered, "This link is not valid: it was changed or cut off."),
        ("/unsubscribe/not-a-token", "This link is not valid"),
        (survey, "This link was issued for &#x27;survey&#x27;, not for &#x27;unsubscribe&#x27;"),
    ):
        answer = client.get(path)
        assert answer.status_code == 400 and "This link does not work" in answer.text, path
        assert says in answer.text and _self_contained(answer.text)
    clock.advance(days=30)
    expired = client.post(genuine)
    assert expired.status_code == 400 and "This link expired on " in expired.text
    assert _listed(api_workspace) == {}


def test_a_workspace_that_never_signed_a_link_accepts_none(client, api_workspace):
    answer = client.get("/unsubscribe/abc.def")
    assert answer.status_code == 400 and "not issued by this service" in answer.text
    assert not (api_workspace.path / ".signing_secret").exists()
