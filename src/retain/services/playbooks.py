"""Playbook files of a workspace: install the built-in library, list and validate ``<workspace>/playbooks/``.

The files are read by :mod:`retain.automation.loading`; this module only knows where a workspace keeps them and
which segments its ``retain.toml`` defines (a ``segment_entry`` trigger must name one).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from retain.automation.library import install_library
from retain.automation.loading import PlaybookCheck, check_playbooks, playbook_files
from retain.workspace import Workspace

__all__ = [
    "PLAYBOOKS_FOLDER",
    "PlaybookCheck",
    "install_playbooks",
    "list_playbooks",
    "playbooks_folder",
    "validate_playbooks",
]

PLAYBOOKS_FOLDER = "playbooks"
"""The workspace's folder of playbook files (and their ``templates/``)."""


def playbooks_folder(ws: Workspace) -> Path:
    """``<workspace>/playbooks``."""
    return ws.path / PLAYBOOKS_FOLDER


def install_playbooks(ws: Workspace, *, overwrite: bool = False) -> list[Path]:
    """Copy the built-in playbooks and templates into the workspace (see :func:`install_library`).

    Returns
    -------
    list of Path
        The files written; empty when the workspace already has the library as shipped.

    Raises
    ------
    ConflictError
        Naming every file edited since it was copied, unless ``overwrite``.
    """
    return install_library(playbooks_folder(ws), overwrite=overwrite)


def list_playbooks(ws: Workspace) -> PlaybookCheck:
    """Every playbook of the workspace, highest priority first, and the problems of the files that are invalid.

    A workspace without a ``playbooks/`` folder has none (and no problem).
    """
    return validate_playbooks(ws)


def validate_playbooks(ws: Workspace, files: Sequence[str | Path] = ()) -> PlaybookCheck:
    """Check playbook files against the schema, their templates and the workspace's segments.

    Parameters
    ----------
    ws
        The workspace (its ``retain.toml`` segments are what a ``segment_entry`` trigger may name).
    files
        The files to check; none means every file of ``<workspace>/playbooks/`` (named relative to the
        workspace in messages). Given files are named as given.

    Returns
    -------
    PlaybookCheck
        The valid playbooks and one line per problem (file, key path, what is valid).
    """
    segments = set(ws.settings.segments)
    if files:
        return check_playbooks([Path(f) for f in files], segments=segments)
    folder = playbooks_folder(ws)
    if not folder.is_dir():
        return PlaybookCheck([], [])
    return check_playbooks(playbook_files(folder), relative_to=ws.path, segments=segments)
