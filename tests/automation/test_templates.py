"""Rendering message templates: escaping only in HTML, strict names with file and line, the sandbox, the context."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retain.automation.templates import (
    CONTEXT_NAMES,
    check_email_template,
    check_text,
    message_context,
    render_email,
    render_text,
)
from retain.contract.profile import PROFILE
from retain.errors import InputError

URL = "https://retain.example/u/abc?x=1&y=2"


def _context(**customer) -> dict:
    row = {"customer_id": "c1", "name": "Ada <Lovelace>", "email": "ada@example.org"} | customer
    return message_context(row, playbook={"name": "wake_up", "version": "0123456789ab"}, unsubscribe_url=URL)


def _templates(folder: Path, name: str = "t", **parts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for part, text in parts.items():
        (folder / f"{name}.{part}.j2").write_text(text)
    return folder


def test_subject_text_and_html_render_and_only_html_is_escaped(tmp_path):
    folder = _templates(
        tmp_path,
        subject="We miss you,\n  {{ customer.name }}  ",
        txt="Hi {{ customer.name }}\nUnsubscribe: {{ unsubscribe_url }}",
        html='<p>Hi {{ customer.name }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>',
    )
    email = render_email(folder, "t", _context())
    assert email.subject == "We miss you, Ada <Lovelace>"  # one line: a header cannot be split by a name
    assert email.text == f"Hi Ada <Lovelace>\nUnsubscribe: {URL}"
    assert email.html == (
        '<p>Hi Ada &lt;Lovelace&gt;</p><a href="https://retain.example/u/abc?x=1&amp;y=2">Unsubscribe</a>'
    )


def test_without_an_html_part_html_is_none(tmp_path):
    folder = _templates(tmp_path, subject="S", txt="T")
    email = render_email(folder, "t", _context())
    assert (email.subject, email.text, email.html) == ("S", "T", None)


def test_a_missing_required_part_names_the_file_and_the_parts(tmp_path):
    folder = _templates(tmp_path, subject="S")
    with pytest.raises(InputError) as caught:
        render_email(folder, "t", _context())
    assert str(caught.value) == (
        f"Email template 't': {folder / 't.txt.j2'} does not exist. An email template is t.subject.j2, t.txt.j2 "
        f"and optionally t.html.j2 in {folder}."
    )


def test_an_undefined_name_names_file_line_and_name(tmp_path):
    folder = _templates(tmp_path, subject="S", txt="line 1\nline 2\nHello {{ custmer.name }}\n")
    with pytest.raises(InputError) as caught:
        render_email(folder, "t", _context())
    assert str(caught.value) == (
        f"{folder / 't.txt.j2'}, line 3: 'custmer' is undefined. A template can use: {', '.join(CONTEXT_NAMES)}."
    )


def test_a_missing_key_of_the_customer_lists_the_keys_it_has(tmp_path):
    folder = _templates(tmp_path, subject="S", txt="\n{{ customer.nme }}")
    with pytest.raises(InputError) as caught:
        render_email(folder, "t", _context())
    keys = ", ".join(sorted([*PROFILE.names, "id"]))
    assert str(caught.value) == (
        f"{folder / 't.txt.j2'}, line 2: 'nme' is not defined here; the keys are: {keys}. "
        f"A template can use: {', '.join(CONTEXT_NAMES)}."
    )


def test_a_syntax_error_names_file_and_line(tmp_path):
    folder = _templates(tmp_path, subject="S", txt="ok\n{{ customer.name }\n")
    with pytest.raises(InputError) as caught:
        render_email(folder, "t", _context())
    assert str(caught.value) == f"{folder / 't.txt.j2'}, line 2: template syntax error: unexpected '}}'."


def test_an_empty_subject_is_refused(tmp_path):
    folder = _templates(tmp_path, subject="{{ customer.plan or '' }}\n", txt="T")
    with pytest.raises(InputError, match="rendered an empty subject"):
        render_email(folder, "t", _context())


def test_the_sandbox_refuses_python_internals(tmp_path):
    folder = _templates(tmp_path, subject="S", txt="{{ customer.__class__.__mro__ }}")
    with pytest.raises(InputError, match=r"t\.txt\.j2: not allowed in a template: access to attribute '__class__'"):
        render_email(folder, "t", _context())
    with pytest.raises(InputError, match="not allowed in a template"):
        render_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", _context(), name="title")


def test_optional_names_are_tested_with_is_defined(tmp_path):
    text = "{% if coupon is defined %}Code {{ coupon.code }}{% else %}no coupon{% endif %}"
    folder = _templates(tmp_path, subject="S", txt=text)
    assert render_email(folder, "t", _context()).text == "no coupon"
    context = message_context(
        {"customer_id": "c1"},
        playbook={"name": "birthday"},
        unsubscribe_url=URL,
        coupon={"code": "BDAY-7K2Q", "percent_off": 15.0, "amount_off": None, "expires_at": "2025-03-01"},
    )
    assert render_email(folder, "t", context).text == "Code BDAY-7K2Q"


def test_the_context_has_every_profile_column_an_id_and_only_the_optional_names_given():
    context = message_context(
        {"customer_id": "c9", "name": "Bo", "p_churn": 0.4},
        playbook={"name": "wake_up"},
        trigger={"days_inactive": 31},
        unsubscribe_url=URL,
    )
    assert set(context) == {"customer", "playbook", "trigger", "unsubscribe_url"}
    customer = context["customer"]
    assert set(customer) == {*PROFILE.names, "id"}
    assert (customer["id"], customer["customer_id"], customer["name"], customer["p_churn"], customer["mrr"]) == (
        "c9",
        "c9",
        "Bo",
        0.4,
        None,
    )
    assert context["trigger"] == {"days_inactive": 31}
    with pytest.raises(InputError, match="no customer_id"):
        message_context({"name": "x"}, playbook={}, unsubscribe_url=URL)


def test_render_text_for_task_titles():
    context = message_context(
        {"customer_id": "c1", "name": "Ada"}, playbook={"name": "x"}, trigger={"days_inactive": 31}, unsubscribe_url=URL
    )
    title = "Call {{ customer.name }} — inactive for {{ trigger.days_inactive }} days"
    assert render_text(title, context) == "Call Ada — inactive for 31 days"
    with pytest.raises(InputError) as caught:
        render_text("{{ trigger.days }}", context, name="steps[1].title")
    assert str(caught.value).startswith(
        "steps[1].title, line 1: 'days' is not defined here; the keys are: days_inactive."
    )


def test_check_text_and_check_email_template(tmp_path):
    check_text("Call {{ customer.name }} {% for x in [1, 2] %}{{ x }}{% endfor %} {{ range(3) | list }}")
    with pytest.raises(InputError, match=r"unknown name 'user'; a template can use: customer, playbook"):
        check_text("{{ user }}")
    with pytest.raises(InputError, match=r"not a valid template: unexpected end of template"):
        check_text("{{ customer.name")
    folder = _templates(tmp_path / "templates", subject="S {{ customer.name }}", txt="{{ who }}", html="{% endif %}")
    assert check_email_template(folder, "t") == [
        "templates/t.txt.j2: unknown name 'who'; a template can use: customer, playbook, trigger, unsubscribe_url, "
        "offer, coupon, survey_url",
        "templates/t.html.j2, line 1: template syntax error: Encountered unknown tag 'endif'.",
    ]
    assert check_email_template(folder, "absent")[0].startswith("template 'absent' has no templates/absent.subject.j2")


def test_an_edited_template_is_read_again(tmp_path):
    folder = _templates(tmp_path, subject="S", txt="first")
    assert render_email(folder, "t", _context()).text == "first"
    path = folder / "t.txt.j2"
    path.write_text("second")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))  # a later mtime, as an editor's save would leave
    assert render_email(folder, "t", _context()).text == "second"
