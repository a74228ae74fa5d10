"""The built-in playbooks: one per retention play, ready to copy into a workspace's ``playbooks/``.

=======================  ================================  =========================================  ========
playbook                 trigger                           does                                       priority
=======================  ================================  =========================================  ========
``dunning``              risk, reason payment_failed       email, a reminder 3 days later             90
``complaint_help``       ticket: 2 unresolved complaints   task for the support team                  85
``service_recovery``     risk, poor_service/dissatisfied   task: a person calls                       80
``detractor_follow_up``  survey: detractor                 task and an apology email                  75
``price_offer``          risk, reason price                20 % coupon and email                      70
``re_engagement``        risk, reason disengaged           email                                      60
``onboarding_nudge``     onboarding: feature unused 7 d    email                                      45
``welcome``              signup                            welcome email, first steps 3 days later    40
``win_back_price``       churned, reason price             25 % coupon and email                      40
``win_back``             churned (any reason)              email                                      35
``wake_up``              inactive 30 days                  email                                      30
``promoter_ask``         survey: promoter                  review and referral ask                    25
``birthday``             date: birthday                    15 % coupon and email                      20
=======================  ================================  =========================================  ========

Each has a goal, a 10 % holdout and email templates with a plain-text and an HTML part and the unsubscribe
link. They ship **disabled** (``enabled: false``): look at who would enter with ``retain playbook preview``,
then switch on the ones you want. The files sit next to this module and are found with
:mod:`importlib.resources`, so they work from an installed wheel.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from retain.errors import ConflictError

__all__ = ["install_library", "library_files"]

_PLAYBOOK_SUFFIX = ".yaml"
_TEMPLATES = "templates"
_TEMPLATE_SUFFIX = ".j2"


def _root() -> Traversable:
    return resources.files(__name__)


def library_files() -> dict[str, bytes]:
    """Every file of the library: relative path (``wake_up.yaml``, ``templates/wake_up.txt.j2``) → bytes."""
    root = _root()
    found = {item.name: item.read_bytes() for item in root.iterdir() if item.name.endswith(_PLAYBOOK_SUFFIX)}
    templates = root / _TEMPLATES
    found |= {
        f"{_TEMPLATES}/{item.name}": item.read_bytes()
        for item in templates.iterdir()
        if item.name.endswith(_TEMPLATE_SUFFIX)
    }
    return dict(sorted(found.items()))


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(content)
        os.replace(temp, path)  # a reader never sees half a file
    finally:
        temp.unlink(missing_ok=True)


def install_library(folder: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the built-in playbooks and their templates into ``folder`` (a workspace's ``playbooks/``).

    A file that is already there with the library's content is left alone; one whose content differs (it was
    edited) is kept unless ``overwrite``. Nothing is written when any file would be refused.

    Parameters
    ----------
    folder
        Where to copy to (created if missing).
    overwrite
        Replace files that differ from the library's version.

    Returns
    -------
    list of Path
        The files written (new or replaced), in library order; empty when everything was up to date.

    Raises
    ------
    ConflictError
        Naming every edited file, when ``overwrite`` is false.
    """
    folder = Path(folder)
    plan: list[tuple[Path, bytes]] = []
    edited: list[Path] = []
    for relative, content in library_files().items():
        target = folder / relative
        if target.is_file():
            if target.read_bytes() == content:
                continue
            if not overwrite:
                edited.append(target)
                continue
        plan.append((target, content))
    if edited:
        shown = ", ".join(p.as_posix() for p in edited)
        raise ConflictError(
            f"Not copying the built-in playbooks: {len(edited)} file(s) differ from the library's version (edited?): "
            f"{shown}. Keep your changes, or replace them with the library's version with overwrite "
            "(`retain playbook init --overwrite`)."
        )
    for target, content in plan:
        _write(target, content)
    return [target for target, _ in plan]
