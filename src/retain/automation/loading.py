"""Read playbook files: YAML → :class:`~retain.automation.spec.PlaybookSpec`, with errors a person can act on.

Every problem is one line naming the file, the key path and what is valid, e.g.::

    playbooks/wake_up.yaml: trigger.dayz: unknown key; valid keys for trigger kind 'inactive': activity, days, kind
    playbooks/x.yaml: steps[1].action: 'sms' is not an action; valid: coupon, email, file, offer, points, ...

(``steps[1]`` counts from 0, as in JSONPath: the second step.) Besides the schema, a file is refused when it is
over :data:`MAX_PLAYBOOK_BYTES`, not UTF-8, not YAML (with line and column), repeats a key, is not a mapping,
has a ``name`` other than its file's stem, or uses an email template whose files are missing or do not parse.
Loading a folder reports every problem of every file at once (:class:`PlaybookError` holds them as a list).

A playbook's **version** is the first 12 hex digits of the SHA-256 of the file's bytes: any change to the file
makes a new version; moving it does not.
"""

from __future__ import annotations

import hashlib
import reprlib
import types
import typing
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from retain.automation.actions_spec import ActionKind
from retain.automation.spec import NAME_PATTERN, PlaybookSpec
from retain.automation.templates import check_email_template
from retain.automation.triggers_spec import SegmentEntryTrigger, TriggerKind
from retain.errors import InputError

__all__ = [
    "MAX_PLAYBOOK_BYTES",
    "PLAYBOOK_SUFFIX",
    "TEMPLATES_FOLDER",
    "LoadedPlaybook",
    "PlaybookCheck",
    "PlaybookError",
    "check_playbooks",
    "load_playbook",
    "load_playbooks",
    "playbook_files",
    "playbook_version",
]

MAX_PLAYBOOK_BYTES = 256 * 1024
"""Largest playbook file read (a playbook is a page of YAML; long texts belong in its templates)."""

PLAYBOOK_SUFFIX = ".yaml"
TEMPLATES_FOLDER = "templates"
"""The folder next to the playbook files that holds their templates."""

_VERSION_DIGITS = 12
_PATTERNS = {
    NAME_PATTERN: "1-64 lowercase letters, digits and _ (e.g. wake_up)",
    r"^[A-Za-z0-9_-]{1,16}$": "1-16 letters, digits, _ or -",
}
_TAG_WORDS = {"kind": ("trigger kind", "a trigger kind"), "action": ("action", "an action")}
_TAG_VALUES = {"kind": sorted(k.value for k in TriggerKind), "action": sorted(a.value for a in ActionKind)}

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 60
_repr.maxlevel, _repr.maxlist, _repr.maxdict = 2, 4, 4


def _show(value: object) -> str:
    """A short, bounded repr of a value from the file (a value built from YAML aliases may be huge)."""
    return _repr.repr(value)


class PlaybookError(InputError):
    """One or more playbook files are invalid; :attr:`problems` has one line per problem (file, key, fix)."""

    code = "invalid_playbook"

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class LoadedPlaybook:
    """A validated playbook file.

    Attributes
    ----------
    spec : PlaybookSpec
        The playbook.
    version : str
        12 hex digits of the SHA-256 of the file's bytes.
    path : Path
        The file it was read from.
    """

    spec: PlaybookSpec
    version: str
    path: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def templates_folder(self) -> Path:
        """Where this playbook's email templates are (``templates/`` next to the file)."""
        return self.path.parent / TEMPLATES_FOLDER


@dataclass(frozen=True)
class PlaybookCheck:
    """The result of checking several files: the valid playbooks and every problem of the others."""

    playbooks: list[LoadedPlaybook]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def playbook_version(content: bytes) -> str:
    """The version of a playbook file with these bytes: the first 12 hex digits of their SHA-256."""
    return hashlib.sha256(content).hexdigest()[:_VERSION_DIGITS]


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no Python objects), refusing a key that appears twice in one mapping.

    ``yaml.safe_load`` keeps the last of two equal keys silently, so a second ``trigger:`` would replace the
    first without a word.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *defaults" may override on purpose
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base constructor reports it
                break
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _shown_path(path: Path, relative_to: Path | None) -> str:
    if relative_to is not None:
        try:
            return path.resolve().relative_to(Path(relative_to).resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _valid_keys(model: type[BaseModel]) -> list[str]:
    return sorted(info.alias or name for name, info in model.model_fields.items())


def _field(model: type[BaseModel], key: object) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


# -- walking a pydantic error location through the models -------------------------------------------------------
# A location such as ("steps", 1, "email", "template") has the discriminator's tag ("email") in it; walking it
# along the model tree tells which model (and so which valid keys) each part belongs to, and gives the path a
# person reads: steps[1].template.


@dataclass
class _Where:
    path: str = ""
    model: type[BaseModel] | None = PlaybookSpec  # the mapping the last part is a key of
    label: str = ""  # " for trigger kind 'inactive'"
    shape: tuple[str, Any] = ("model", PlaybookSpec)  # what the value at ``path`` is

    def key(self, part: object) -> None:
        self.path = f"{self.path}.{part}" if self.path else str(part)


def _shape(annotation: Any, discriminator: str | None = None) -> tuple[str, Any]:
    """What a value of ``annotation`` is: a model, a tagged union (tag → model), a list, an enum or a value."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        extra = next((a.discriminator for a in args[1:] if isinstance(a, FieldInfo) and a.discriminator), None)
        return _shape(args[0], extra or discriminator)
    if origin is list:
        return ("list", args[0] if args else Any)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if discriminator:
            tags = {}
            for member in members:
                literal = typing.get_args(member.model_fields[discriminator].annotation)[0]
                tags[str(literal)] = member
            return ("union", (discriminator, tags))
        if len(members) == 1:
            return _shape(members[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return ("enum", annotation)
    return ("value", annotation)


def _walk(loc: Iterable[object]) -> _Where:
    where = _Where()
    for part in loc:
        kind, payload = where.shape
        if kind == "model":
            where.model = payload
            info = _field(payload, part)
            where.key(part)
            where.shape = ("value", None) if info is None else _shape(info.annotation, info.discriminator)
        elif kind == "list":
            where.path += f"[{part}]"
            where.shape = _shape(payload)
        elif kind == "union":
            discriminator, tags = payload
            model = tags.get(str(part))
            word = _TAG_WORDS.get(discriminator, (discriminator,))[0]
            where.label = f" for {word} {str(part)!r}"
            where.shape = ("model", model) if model is not None else ("value", None)
        else:
            where.key(part)
    return where


def _message(error: Mapping[str, Any]) -> str:
    """One pydantic error as ``key.path: what is wrong; what is valid``."""
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    where = _walk(loc)
    path = where.path or "(top level)"
    if kind in ("extra_forbidden", "missing"):
        parent = _walk(loc[:-1])
        keys = ", ".join(_valid_keys(where.model)) if where.model is not None else ""
        what = "unknown key" if kind == "extra_forbidden" else "required key is missing"
        return f"{path}: {what}; valid keys{parent.label}: {keys}" if keys else f"{path}: {what}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        discriminator = str(error.get("ctx", {}).get("discriminator", "")).strip("'")
        article = _TAG_WORDS.get(discriminator, (discriminator, discriminator))[1]
        valid = ", ".join(_TAG_VALUES.get(discriminator, []))
        key = f"{where.path}.{discriminator}" if where.path else discriminator
        if kind == "union_tag_not_found":
            return f"{key}: required key is missing; valid: {valid}"
        return f"{key}: {_show(error['ctx']['tag'])} is not {article}; valid: {valid}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        shape, payload = where.shape
        if shape == "union":
            discriminator = payload[0]
            hint = f" whose {discriminator!r} is one of: {', '.join(_TAG_VALUES.get(discriminator, []))}"
        elif shape == "model":
            hint = f" with keys from: {', '.join(_valid_keys(payload))}"
        else:
            hint = ""
        return f"{path}: expected a mapping{hint}; got {_show(value)}"
    if kind == "list_type":
        return f"{path}: expected a list (one '- ' line per item); got {_show(value)}"
    if kind == "too_short":
        ctx = error.get("ctx", {})
        return f"{path}: needs at least {ctx.get('min_length')} item(s); got {ctx.get('actual_length', 0)}"
    if kind == "enum":
        shape, payload = where.shape
        valid = sorted(m.value for m in payload) if shape == "enum" else [error["ctx"]["expected"]]
        return f"{path}: {_show(value)} is not valid; valid: {', '.join(map(str, valid))}"
    if kind == "string_pattern_mismatch":
        pattern = error["ctx"]["pattern"]
        return f"{path}: {_show(value)} is not valid; use {_PATTERNS.get(pattern, f'the pattern {pattern}')}"
    if kind == "value_error":
        return f"{path}: {error['msg'].removeprefix('Value error, ')}"
    message = error["msg"]
    return f"{path}: invalid value {_show(value)}: {message[:1].lower()}{message[1:]}"


# -- reading one file ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    playbook: LoadedPlaybook | None
    problems: list[str]


def _yaml(text: str, shown: str) -> tuple[object, list[str]]:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), []  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        context = f" ({exc.context})" if exc.context and exc.context != exc.problem else ""
        return None, [f"{shown}: {at}not valid YAML: {exc.problem}{context}"]
    except yaml.YAMLError as exc:
        return None, [f"{shown}: not valid YAML: {exc}"]
    except RecursionError:
        return None, [f"{shown}: nested too deeply to read; a playbook is a few levels of keys"]


def _read(path: Path, relative_to: Path | None, segments: Collection[str] | None) -> _Read:
    shown = _shown_path(path, relative_to)
    if path.suffix != PLAYBOOK_SUFFIX:
        return _Read(None, [f"{shown}: a playbook file ends in {PLAYBOOK_SUFFIX}; rename it to {path.stem}.yaml"])
    try:
        size = path.stat().st_size
        # Read one byte more than allowed: a file that grew since stat() is still caught.
        with path.open("rb") as handle:
            content = handle.read(MAX_PLAYBOOK_BYTES + 1) if size <= MAX_PLAYBOOK_BYTES else b""
    except FileNotFoundError:
        return _Read(None, [f"{shown}: no such file"])
    except OSError as exc:
        return _Read(None, [f"{shown}: cannot be read ({exc.strerror or exc})"])
    if size > MAX_PLAYBOOK_BYTES or len(content) > MAX_PLAYBOOK_BYTES:
        size = max(size, len(content))
        return _Read(
            None,
            [
                f"{shown}: {size:,} bytes is over the {MAX_PLAYBOOK_BYTES:,}-byte limit of a playbook file; "
                "move long texts into its templates"
            ],
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _Read(None, [f"{shown}: not UTF-8 text (byte {exc.start}); save it as UTF-8"])
    data, problems = _yaml(text, shown)
    if problems:
        return _Read(None, problems)
    keys = ", ".join(_valid_keys(PlaybookSpec))
    if data is None:
        return _Read(None, [f"{shown}: the file is empty; a playbook is a mapping with the keys {keys}"])
    if not isinstance(data, dict):
        return _Read(None, [f"{shown}: expected a mapping of keys ({keys}) at the top; got {type(data).__name__}"])
    problems = []
    name = data.get("name")
    if isinstance(name, str) and name != path.stem:
        problems.append(
            f"{shown}: name: {_show(name)} does not match the file name {path.name}; "
            f"set name: {path.stem} or rename the file to {name}{PLAYBOOK_SUFFIX}"
        )
    try:
        spec = PlaybookSpec.model_validate(data)
    except ValidationError as exc:
        problems += [f"{shown}: {_message(error)}" for error in exc.errors(include_url=False)]
        return _Read(None, problems)
    problems += _template_problems(spec, path.parent / TEMPLATES_FOLDER, shown)
    problems += _segment_problems(spec, segments, shown)
    if problems:
        return _Read(None, problems)
    return _Read(LoadedPlaybook(spec=spec, version=playbook_version(content), path=path), [])


def _template_problems(spec: PlaybookSpec, folder: Path, shown: str) -> list[str]:
    problems, checked = [], set()
    for index, step in enumerate(spec.steps):
        for template in step.templates:
            if template in checked:
                continue
            checked.add(template)
            problems += [f"{shown}: steps[{index}].template: {p}" for p in check_email_template(folder, template)]
    return problems


def _segment_problems(spec: PlaybookSpec, segments: Collection[str] | None, shown: str) -> list[str]:
    trigger = spec.trigger
    if segments is None or not isinstance(trigger, SegmentEntryTrigger) or trigger.segment in segments:
        return []
    if not segments:
        return [f"{shown}: trigger.segment: {trigger.segment!r} is not defined; retain.toml has no [segments]"]
    return [
        f"{shown}: trigger.segment: {trigger.segment!r} is not a segment of retain.toml; "
        f"valid: {', '.join(sorted(segments))}"
    ]


# -- public API ------------------------------------------------------------------------------------------------


def load_playbook(path: str | Path, *, relative_to: str | Path | None = None) -> LoadedPlaybook:
    """Read and validate one playbook file.

    Parameters
    ----------
    path
        The ``.yaml`` file; its templates are in ``templates/`` next to it.
    relative_to
        Show file names in messages relative to this folder (e.g. the workspace: ``playbooks/x.yaml``).

    Returns
    -------
    LoadedPlaybook
        The spec, its version (content hash) and the path.

    Raises
    ------
    PlaybookError
        With one line per problem (file, key path, valid keys or values).
    """
    read = _read(Path(path), None if relative_to is None else Path(relative_to), None)
    if read.playbook is None:
        raise PlaybookError(read.problems)
    return read.playbook


def playbook_files(folder: str | Path) -> list[Path]:
    """The playbook files of ``folder``: ``*.yaml`` and (to be reported) ``*.yml``, hidden files skipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"{folder} is not a folder of playbooks; create it with `retain playbook init` (which copies the "
            "built-in library) or write playbooks/<name>.yaml files."
        )
    return sorted(p for p in folder.iterdir() if p.suffix in (PLAYBOOK_SUFFIX, ".yml") and not p.name.startswith("."))


def check_playbooks(
    paths: Iterable[str | Path],
    *,
    relative_to: str | Path | None = None,
    segments: Collection[str] | None = None,
) -> PlaybookCheck:
    """Read every file of ``paths`` and collect the valid playbooks and every problem (never raises for a file).

    Parameters
    ----------
    paths
        Playbook files.
    relative_to
        Show file names relative to this folder.
    segments
        The segment names of ``retain.toml``: when given, a ``segment_entry`` trigger must name one of them.

    Returns
    -------
    PlaybookCheck
        The valid playbooks sorted by priority (highest first), then name; the problems in file order. Two files
        with one name are a problem of the second.
    """
    root = None if relative_to is None else Path(relative_to)
    loaded: list[LoadedPlaybook] = []
    problems: list[str] = []
    first: dict[str, Path] = {}
    for path in paths:
        read = _read(Path(path), root, segments)
        problems += read.problems
        playbook = read.playbook
        if playbook is None:
            continue
        if playbook.name in first:
            problems.append(
                f"{_shown_path(playbook.path, root)}: name: {playbook.name!r} is also the name of "
                f"{_shown_path(first[playbook.name], root)}; each playbook needs a name of its own"
            )
            continue
        first[playbook.name] = playbook.path
        loaded.append(playbook)
    loaded.sort(key=lambda p: (-p.spec.priority, p.name))
    return PlaybookCheck(loaded, problems)


def load_playbooks(
    folder: str | Path,
    *,
    relative_to: str | Path | None = None,
    segments: Collection[str] | None = None,
) -> list[LoadedPlaybook]:
    """Read and validate every playbook of ``folder``, highest priority first, then by name.

    Raises
    ------
    PlaybookError
        Listing every problem of every bad file (not only the first one's).
    InputError
        If ``folder`` is not a folder.
    """
    check = check_playbooks(playbook_files(folder), relative_to=relative_to, segments=segments)
    if check.problems:
        raise PlaybookError(check.problems)
    return check.playbooks
