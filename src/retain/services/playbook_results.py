"""``playbook_results``: what each playbook achieved — treatment against holdout on its goal metric.

Reads the enrolments the playbook runner wrote into the lake (the ``playbook_enrolments`` system table) and the
canonical facts of one lake view, measures every enrolment whose goal window has ended
(:func:`retain.automation.outcomes.outcomes`) and turns the two arms into an effect with its interval, the
CUPED estimate, the sample-ratio check and the minimum detectable effect (:func:`retain.automation.uplift`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ibis

from retain.analytics.periods import as_instant
from retain.automation.outcomes import outcomes
from retain.automation.uplift import UpliftResult, measure_uplift
from retain.contract.system_tables import SystemTableName
from retain.errors import NotFoundError
from retain.workspace import Workspace

__all__ = ["PlaybookResult", "playbook_results"]


@dataclass(frozen=True)
class PlaybookResult:
    """One playbook's measured effect.

    Attributes
    ----------
    playbook : str
    metric : str
        The goal metric (``retained``, ``orders``, ``revenue``, ``logins``).
    window_days : int
    holdout_share : float
        The share the arms were drawn with (the latest enrolment's).
    enrolled : int
        Every enrolment with this goal.
    measured : int
        Enrolments whose window had ended at ``as_of`` (the others are still running).
    uplift : UpliftResult or None
        ``None`` when nothing is measured yet.
    as_of : datetime
    """

    playbook: str
    metric: str
    window_days: int
    holdout_share: float
    enrolled: int
    measured: int
    uplift: UpliftResult | None
    as_of: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "playbook": self.playbook,
            "metric": self.metric,
            "window_days": self.window_days,
            "holdout_share": self.holdout_share,
            "enrolled": self.enrolled,
            "measured": self.measured,
            "as_of": self.as_of.isoformat(),
            "uplift": None if self.uplift is None else self.uplift.to_dict(),
        }


def playbook_results(ws: Workspace, name: str | None = None, *, as_of: datetime | None = None) -> list[PlaybookResult]:
    """The measured effect of every playbook with enrolments (or of ``name``), at ``as_of``.

    A playbook whose goal changed (a new metric or window in its file) is measured on the enrolments made with
    its latest goal: the others were promised another outcome.

    Raises
    ------
    NotFoundError
        ``name`` has no enrolments (the message lists the playbooks that have).
    """
    facts = ws.facts()
    at = as_instant(as_of) if as_of is not None else facts.default_as_of
    enrolments = facts.system_table(SystemTableName.PLAYBOOK_ENROLMENTS)
    goals = facts.backend.to_pandas(
        enrolments.group_by("playbook", "goal_metric", "goal_window_days").aggregate(
            enrolled=enrolments.count(), latest=enrolments.enrolled_at.max()
        )
    )
    known = sorted(goals["playbook"].unique())
    if name is not None and name not in known:
        listed = ", ".join(known) if known else "none yet (run `retain playbook run` first)"
        raise NotFoundError(f"Playbook {name!r} has no enrolments. Playbooks with enrolments: {listed}.")
    out = []
    for playbook in [name] if name is not None else known:
        mine = goals[goals["playbook"] == playbook].sort_values("latest")
        goal = mine.iloc[-1]
        metric, window = str(goal["goal_metric"]), int(goal["goal_window_days"])
        rows = enrolments.filter(
            (enrolments.playbook == playbook)
            & (enrolments.goal_metric == metric)
            & (enrolments.goal_window_days == ibis.literal(window, "int64"))
        )
        shares = facts.backend.to_pandas(rows.order_by(ibis.desc("enrolled_at")).select("holdout_share").limit(1))
        share = float(shares["holdout_share"].iloc[0])
        frame = facts.backend.to_pandas(outcomes(facts, rows, metric=metric, window_days=window, as_of=at))
        uplift = measure_uplift(frame, holdout_share=share) if len(frame) else None
        out.append(PlaybookResult(playbook, metric, window, share, int(goal["enrolled"]), len(frame), uplift, at))
    return out
