"""The playbooks of a workspace as a list shows them: what each does, whether it runs, and how many it enrolled."""

from __future__ import annotations

from dataclasses import dataclass

from retain.automation.enrolments import enrolment_counts
from retain.contract.system_tables import Arm
from retain.services.playbooks import list_playbooks
from retain.workspace import Workspace

__all__ = ["PlaybookOverview", "PlaybookOverviewList", "playbook_overview"]


@dataclass(frozen=True)
class PlaybookOverview:
    name: str
    description: str
    enabled: bool
    trigger: str
    """The trigger's kind."""
    trigger_summary: str
    """The trigger in a few words, e.g. ``inactive 30 d``."""
    priority: int
    holdout: float
    version: str
    enrolled: int
    """Every enrolment so far, both arms."""
    treated: int
    held_out: int


@dataclass(frozen=True)
class PlaybookOverviewList:
    playbooks: list[PlaybookOverview]
    """Highest priority first."""
    problems: list[str]
    """One line per invalid playbook file (file, key path, what is valid): those files are not listed."""


def playbook_overview(ws: Workspace) -> PlaybookOverviewList:
    """Every valid playbook of the workspace with its enrolment counts, and the problems of the invalid files."""
    checked = list_playbooks(ws)
    with ws.connect() as connection:
        counts = enrolment_counts(connection)
    listed = []
    for loaded in checked.playbooks:
        spec = loaded.spec
        arms = counts.get(spec.name, {})
        treated, held_out = arms.get(Arm.TREATMENT, 0), arms.get(Arm.HOLDOUT, 0)
        listed.append(
            PlaybookOverview(
                name=spec.name,
                description=spec.description,
                enabled=spec.enabled,
                trigger=str(spec.trigger.kind),
                trigger_summary=spec.trigger.summary(),
                priority=spec.priority,
                holdout=spec.holdout,
                version=loaded.version,
                enrolled=treated + held_out,
                treated=treated,
                held_out=held_out,
            )
        )
    return PlaybookOverviewList(listed, list(checked.problems))
