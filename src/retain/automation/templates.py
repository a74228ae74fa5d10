"""Message templates: Jinja2 in a sandbox, strict about undefined names, HTML-escaped only in HTML parts.

An email template named ``wake_up`` is three files in a playbook folder's ``templates/``:

- ``wake_up.subject.j2`` — the subject (whitespace and line breaks collapse to single spaces: one header line);
- ``wake_up.txt.j2`` — the plain-text body;
- ``wake_up.html.j2`` — the HTML body (optional; the only part rendered with HTML autoescape).

Templates render in :class:`jinja2.sandbox.SandboxedEnvironment` (no access to Python internals from a
template) with :class:`jinja2.StrictUndefined`: a misspelt name is an error naming the file, line and name,
never an empty string in a customer's inbox. The context (:func:`message_context`) holds:

==================  ======================================================================================
name                what
==================  ======================================================================================
``customer``        the profile row: ``id``, ``name``, ``email`` and every profile column (``None`` if unknown)
``playbook``        ``name``, ``description``, ``version``
``trigger``         the trigger's facts (e.g. ``days_inactive`` for ``inactive``)
``unsubscribe_url`` the customer's signed unsubscribe link
``offer``           ``name`` (offer steps only)
``coupon``          ``code``, ``percent_off``, ``amount_off``, ``expires_at`` (after a coupon step only)
``survey_url``      the customer's signed survey link (survey steps only)
==================  ======================================================================================

Names that are only sometimes present are tested with ``{% if coupon is defined %}``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import FileSystemLoader, StrictUndefined, meta, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from retain.contract.profile import PROFILE
from retain.errors import InputError

__all__ = [
    "CONTEXT_NAMES",
    "EMAIL_PARTS",
    "OPTIONAL_PARTS",
    "RenderedEmail",
    "check_email_template",
    "check_text",
    "message_context",
    "render_email",
    "render_text",
    "template_file",
]

CONTEXT_NAMES = ("customer", "playbook", "trigger", "unsubscribe_url", "offer", "coupon", "survey_url")
"""The names a template may use (see the module docstring)."""

EMAIL_PARTS = ("subject", "txt", "html")
"""The files of an email template, ``<name>.<part>.j2``."""

OPTIONAL_PARTS = ("html",)
"""Parts an email template may leave out."""


@dataclass(frozen=True)
class RenderedEmail:
    """A rendered email: a one-line subject, the plain-text body and the HTML body (``None`` without one)."""

    subject: str
    text: str
    html: str | None


class _Undefined(StrictUndefined):
    """StrictUndefined whose message lists the keys a mapping does have (``customer.nme`` → the real keys)."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        obj, name = self._undefined_obj, self._undefined_name
        if self._undefined_hint is None and obj is not missing and isinstance(obj, Mapping):
            keys = ", ".join(sorted(str(k) for k in obj))
            return f"{name!r} is not defined here; the keys are: {keys}"
        return super()._undefined_message


def _environment(loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=loader,
        undefined=_Undefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        trim_blocks=True,  # a {% if %} on its own line leaves no blank line in a plain-text body
        lstrip_blocks=True,
    )


_STRINGS = _environment()


@functools.lru_cache(maxsize=64)
def _folder_environment(folder: str) -> SandboxedEnvironment:
    # One environment per folder: Jinja2 caches compiled templates in it (and reloads a file that changed).
    return _environment(FileSystemLoader(folder))


def template_file(template: str, part: str) -> str:
    """The file name of ``part`` (``subject``, ``txt`` or ``html``) of email template ``template``."""
    return f"{template}.{part}.j2"


def _allowed() -> str:
    return ", ".join(CONTEXT_NAMES)


def _unknown_names(env: SandboxedEnvironment, source: str, name: str) -> list[str]:
    """Top-level names ``source`` reads that the context never holds (raises TemplateSyntaxError)."""
    tree = env.parse(source, name=name)
    used = meta.find_undeclared_variables(tree)
    return sorted(used - set(CONTEXT_NAMES) - set(env.globals))


def check_text(text: str, *, name: str = "text") -> None:
    """Check a one-off template (a task title): it parses and reads only context names.

    Raises
    ------
    InputError
        On a syntax error (with the line) or an unknown name (listing the names a template can use).
    """
    try:
        unknown = _unknown_names(_STRINGS, text, name)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(f"not a valid template: {exc.message} (line {exc.lineno})") from None
    if unknown:
        raise InputError(f"unknown name {', '.join(map(repr, unknown))}; a template can use: {_allowed()}")


def check_email_template(folder: Path, template: str) -> list[str]:
    """The problems of email template ``template`` in ``folder`` (empty when it is fine).

    Each problem is one line naming the file (as ``<folder name>/<file>``): a required part missing, a syntax
    error with its line, or a name the context never holds.
    """
    problems = []
    env = _folder_environment(str(Path(folder).resolve()))
    for part in EMAIL_PARTS:
        file = template_file(template, part)
        shown = f"{Path(folder).name}/{file}"
        path = Path(folder) / file
        if not path.is_file():
            if part not in OPTIONAL_PARTS:
                required = ", ".join(template_file(template, p) for p in EMAIL_PARTS if p not in OPTIONAL_PARTS)
                problems.append(
                    f"template {template!r} has no {shown}; an email template needs {required} "
                    f"(and optionally {template_file(template, 'html')}) in {Path(folder).name}/"
                )
            continue
        try:
            unknown = _unknown_names(env, path.read_text(encoding="utf-8"), file)
        except UnicodeDecodeError:
            problems.append(f"{shown} is not UTF-8 text")
            continue
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"{shown}, line {exc.lineno}: template syntax error: {exc.message}")
            continue
        if unknown:
            problems.append(f"{shown}: unknown name {', '.join(map(repr, unknown))}; a template can use: {_allowed()}")
    return problems


def _template_line(tb: TracebackType | None, filename: str | None) -> int | None:
    """The template line of an error raised while rendering: Jinja2 puts the template's frame in the traceback."""
    line = None
    while tb is not None:
        if filename is not None and tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render(template: jinja2.Template, context: Mapping[str, Any], shown: str) -> str:
    try:
        return template.render(context)
    except jinja2.UndefinedError as exc:
        line = _template_line(exc.__traceback__, template.filename)
        where = f"{shown}, line {line}" if line else shown
        raise InputError(f"{where}: {exc}. A template can use: {_allowed()}.") from None
    except jinja2.exceptions.SecurityError as exc:
        raise InputError(f"{shown}: not allowed in a template: {exc}.") from None


def render_text(text: str, context: Mapping[str, Any], *, name: str = "text") -> str:
    """Render one-off template text (e.g. a task title) in the sandbox.

    Raises
    ------
    InputError
        On a syntax error or an undefined name; the message names ``name`` and the line.
    """
    try:
        template = _STRINGS.from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(f"{name}, line {exc.lineno}: template syntax error: {exc.message}.") from None
    return _render(template, context, name)


def render_email(folder: str | Path, template: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render email template ``template`` of ``folder`` (a playbook folder's ``templates/``).

    Parameters
    ----------
    folder
        The templates folder.
    template
        The template name (``wake_up`` → ``wake_up.subject.j2``, ``wake_up.txt.j2``, ``wake_up.html.j2``).
    context
        The names the template reads; build it with :func:`message_context`.

    Returns
    -------
    RenderedEmail
        ``html`` is ``None`` when the template has no HTML part.

    Raises
    ------
    InputError
        A required part is missing, a part does not parse, or it reads a name the context lacks; the message
        names the file, the line and the name.

    Examples
    --------
    >>> email = render_email("playbooks/templates", "wake_up", context)  # doctest: +SKIP
    >>> email.subject  # doctest: +SKIP
    'We miss you, Ada'
    """
    folder = Path(folder)
    env = _folder_environment(str(folder.resolve()))
    parts: dict[str, str | None] = {}
    for part in EMAIL_PARTS:
        file = template_file(template, part)
        shown = str(folder / file)
        try:
            compiled = env.get_template(file)
        except jinja2.TemplateNotFound:
            if part in OPTIONAL_PARTS:
                parts[part] = None
                continue
            raise InputError(
                f"Email template {template!r}: {shown} does not exist. An email template is "
                f"{template_file(template, 'subject')}, {template_file(template, 'txt')} and optionally "
                f"{template_file(template, 'html')} in {folder}."
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise InputError(f"{shown}, line {exc.lineno}: template syntax error: {exc.message}.") from None
        parts[part] = _render(compiled, context, shown)
    subject = " ".join((parts["subject"] or "").split())  # one line: a line break in a header would start another
    if not subject:
        raise InputError(f"{folder / template_file(template, 'subject')} rendered an empty subject; write a subject.")
    return RenderedEmail(subject=subject, text=parts["txt"] or "", html=parts["html"])


def message_context(
    customer: Mapping[str, Any],
    *,
    playbook: Mapping[str, Any],
    trigger: Mapping[str, Any] | None = None,
    unsubscribe_url: str,
    offer: Mapping[str, Any] | None = None,
    coupon: Mapping[str, Any] | None = None,
    survey_url: str | None = None,
) -> dict[str, Any]:
    """The context a step's templates render with.

    Parameters
    ----------
    customer
        The customer's profile row (``customer_id`` and any profile columns); it becomes ``customer`` with an
        ``id`` and every profile column (``None`` for those not given), so a template may read
        ``customer.mrr`` for a shop's customer without failing.
    playbook
        ``name``, ``description`` and ``version`` of the playbook.
    trigger
        The trigger's facts (the evaluator's ``detail``).
    unsubscribe_url
        The customer's signed unsubscribe link.
    offer, coupon, survey_url
        Present only for the steps that have them (an offer step, after a coupon step, a survey step).
    """
    if "customer_id" not in customer and "id" not in customer:
        raise InputError(f"The customer row has no customer_id; its keys are: {', '.join(map(str, customer))}.")
    row = {name: None for name in PROFILE.names} | dict(customer)
    row.setdefault("id", row.get("customer_id"))
    context: dict[str, Any] = {
        "customer": row,
        "playbook": dict(playbook),
        "trigger": dict(trigger or {}),
        "unsubscribe_url": unsubscribe_url,
    }
    for name, value in (("offer", offer), ("coupon", coupon), ("survey_url", survey_url)):
        if value is not None:
            context[name] = dict(value) if isinstance(value, Mapping) else value
    return context
