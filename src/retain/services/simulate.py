"""``simulate``: run a synthetic company forward with retain live, and compare what retain measured with the truth.

The company is simulated a calendar month at a time (the generator's step; see :mod:`retain.synth.closed_loop`)
and retain runs every ``step_days`` days (weekly by default): on the first of each month, before the month's churn
draw, and then on the 8th, 15th … with the facts of the month so far. Each run:

1. ingests what became known since the previous run into the workspace (one new lake batch per table);
2. runs ``retain refresh`` (scoring with a churn model trained once on the history when a playbook has a
   ``risk`` trigger) when an enabled playbook reads the customer profile (conditions, or a ``risk``,
   ``segment_entry`` or ``lifecycle`` trigger) and the current one is ``refresh_days`` old (monthly by default);
   otherwise the profile is not needed and the run skips it;
3. runs the playbooks (``run_playbooks(ws, as_of=...)``, which also copies its enrolments into the lake's
   ``playbook_enrolments`` system table, what ``playbook_results`` reads); delivers the
   outbox (``deliver_once``, within a day so that quiet hours end in every time zone) to the simulated channel, a
   JSON Lines ``file`` channel of the workspace's ``retain.toml``;
4. reads who received what back from that file: each receiver's churn hazard of the next month simulated is
   multiplied by the playbook's reaction (:mod:`retain.synth.reactions`) — the month that starts with the run for
   a run on the first, the following month for a run within a month (its churn draw is already made).

The playbooks are copied into the workspace enabled, with every step that reaches the customer through a channel
(``email``, ``webhook``, ``file``, ``survey``) turned into a ``file`` step on the simulated channel: the customer's
inbox is that file (steps that only write state rows — tasks, tags, coupons, points, offers — stay as they are and
are not something the customer receives).

At the end the measured effect (``playbook_results``) is written beside the truth: for every enrolled treated
customer, the goal outcome with the messages (what happened) and without them (the same draws replayed), in
``ground_truth/playbook_effects.parquet`` (per playbook) and ``ground_truth/playbook_effects_by_customer.parquet``.

**Estimand.** The holdout-vs-treatment difference estimates the effect of *assignment* to the treatment arm on
everyone enrolled (intention to treat: a treated customer whose message was capped or suppressed counts as
treated). The truth is the same estimand: the mean over enrolled treated customers of (outcome with the
playbook's messages) − (outcome without them), which is 0 for a treated customer who received nothing; under
randomised arms its expectation equals the assignment effect on all enrolled customers.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from retain.automation.loading import LoadedPlaybook, load_playbooks, playbook_files
from retain.automation.outcomes import outcomes
from retain.contract.system_tables import SystemTableName
from retain.errors import ConflictError, InputError
from retain.services.delivery import deliver_once
from retain.services.playbook_results import PlaybookResult, playbook_results
from retain.services.refresh import refresh
from retain.services.training import train
from retain.settings import CONFIG_FILE_NAME
from retain.synth.closed_loop import EFFECT_COLUMNS, SyntheticCompany
from retain.synth.params import SynthModel
from retain.synth.reactions import DEFAULT_REACTIONS, Reactions
from retain.workspace import WORKSPACE_ID_FILE, Workspace

__all__ = [
    "SIMULATED_CHANNEL",
    "SIMULATED_CHANNEL_FILE",
    "SimulatedPlaybook",
    "SimulationResult",
    "read_channel",
    "simulate",
]

SIMULATED_CHANNEL = "simulated"
"""The channel every customer-facing step of a simulated playbook is delivered through."""
SIMULATED_CHANNEL_FILE = "simulated_channel.jsonl"
"""Its JSON Lines file, inside the workspace: the customers' inbox."""
EFFECTS_FILE = "playbook_effects.parquet"
EFFECTS_BY_CUSTOMER_FILE = "playbook_effects_by_customer.parquet"
_TO_CHANNEL = {"email", "webhook", "file", "survey"}
_PROFILE_TRIGGERS = {"risk", "segment_entry", "lifecycle"}
_WORKER = "simulation"
_DELIVERY_DAY = timedelta(days=1)
"""Messages decided at a month's start are delivered within its first day (quiet hours in any time zone end by
then); the customer reacts over the whole month."""


@dataclass(frozen=True)
class SimulatedPlaybook:
    """One playbook's measured effect beside its true effect.

    Attributes
    ----------
    playbook, goal_metric, window_days
        The playbook and its goal.
    enrolled, treated, holdout : int
        Measured enrolments (window ended) per arm.
    received : int
        Treated enrolments whose customer received a message of the playbook within the goal window.
    true_effect : float
        Mean over the measured treated enrolments of (goal with the messages) − (goal without them).
    estimate, ci_low, ci_high : float or None
        What ``playbook_results`` reports: treatment − holdout with its 95 % interval (``None``: not measured).
    cuped_estimate, cuped_ci_low, cuped_ci_high, cuped_width_ratio : float or None
        The CUPED estimate, its interval and its half-width over the raw one.
    srm_p_value : float or None
        Sample-ratio check p-value (flagged below 0.001).
    holdout_messages : int
        Messages of this playbook that reached a holdout customer at the simulated channel (must be 0).
    """

    playbook: str
    goal_metric: str
    window_days: int
    enrolled: int
    treated: int
    holdout: int
    received: int
    true_effect: float
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    cuped_estimate: float | None
    cuped_ci_low: float | None
    cuped_ci_high: float | None
    cuped_width_ratio: float | None
    srm_p_value: float | None
    holdout_messages: int

    @property
    def covered(self) -> bool:
        """The true effect lies inside the reported 95 % interval."""
        return self.ci_low is not None and self.ci_low <= self.true_effect <= self.ci_high

    @property
    def significant(self) -> bool:
        """The reported interval excludes 0."""
        return self.ci_low is not None and (self.ci_low > 0 or self.ci_high < 0)

    @property
    def cuped_covered(self) -> bool:
        """The true effect lies inside the CUPED interval."""
        return self.cuped_ci_low is not None and self.cuped_ci_low <= self.true_effect <= self.cuped_ci_high

    @property
    def cuped_significant(self) -> bool:
        """The CUPED interval excludes 0."""
        return self.cuped_ci_low is not None and (self.cuped_ci_low > 0 or self.cuped_ci_high < 0)

    def to_dict(self) -> dict[str, object]:
        return {
            **self.__dict__,
            "covered": self.covered,
            "significant": self.significant,
            "cuped_covered": self.cuped_covered,
            "cuped_significant": self.cuped_significant,
        }


@dataclass(frozen=True)
class SimulationResult:
    """What :func:`simulate` did and found.

    Attributes
    ----------
    workspace : Path
    customers, months, history_months, seed : int
    model : SynthModel
    refreshes : int
        Refreshes run (0 when no playbook reads the profile).
    messages : int
        Distinct messages delivered to the simulated channel.
    seconds : float
    playbooks : list of SimulatedPlaybook
    files : list of Path
        The ground-truth files written.
    """

    workspace: Path
    customers: int
    months: int
    history_months: int
    seed: int
    model: SynthModel
    refreshes: int
    messages: int
    seconds: float
    playbooks: list[SimulatedPlaybook] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def get(self, playbook: str) -> SimulatedPlaybook:
        for row in self.playbooks:
            if row.playbook == playbook:
                return row
        raise InputError(f"No results for playbook {playbook!r}; simulated: {[p.playbook for p in self.playbooks]}.")


def read_channel(path: Path, offset: int = 0) -> tuple[list[dict], int]:
    """The complete JSON lines of the channel file after byte ``offset``, and the offset after the last of them.

    A line cut short by a killed worker is skipped (the worker writes the message again on a line of its own).
    """
    if not path.is_file():
        return [], offset
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1
    records = []
    for line in data[:end].splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records, offset + end


def _simulated_step(step: dict) -> dict:
    if step.get("action") not in _TO_CHANNEL:
        return step
    kept = {key: step[key] for key in ("delay", "recheck") if key in step}
    return {"action": "file", "channel": SIMULATED_CHANNEL, **kept}


def _install_playbooks(source: Path, target: Path) -> tuple[list[LoadedPlaybook], list[str]]:
    """Copy the playbooks of ``source`` into ``target`` enabled, their customer-facing steps on the simulated
    channel; returns them and the names of those that read the customer profile."""
    files = playbook_files(source)
    if not files:
        raise InputError(
            f"{source} holds no playbook (*.yaml); pass a folder of playbooks, e.g. from `retain playbook init`."
        )
    needs_profile = []
    for path in files:
        spec = yaml.safe_load(path.read_text())
        if not isinstance(spec, dict):
            raise InputError(f"{path} is not a playbook (a YAML mapping); check it with `retain playbook validate`.")
        spec["enabled"] = True
        spec["steps"] = [_simulated_step(dict(step)) for step in spec.get("steps") or []]
        (target / path.name).write_text(yaml.safe_dump(spec, sort_keys=False))
        trigger = (spec.get("trigger") or {}).get("kind")
        if spec.get("conditions") or trigger in _PROFILE_TRIGGERS:
            needs_profile.append(str(spec.get("name", path.stem)))
    loaded = load_playbooks(target)  # every problem at once, naming file and key, before anything runs
    return loaded, needs_profile


def _train_if_needed(ws: Workspace, playbooks: list[LoadedPlaybook], as_of: datetime) -> bool:
    """Train the churn model on the history when a playbook's trigger reads P(churn) (``risk``); the refreshes
    then score every customer with it. Returns whether it trained."""
    readers = [p.name for p in playbooks if str(p.spec.trigger.kind) == "risk"]
    if not readers:
        return False
    try:
        # A short backtest (one test month): the simulation's history is months, not years.
        train(ws, as_of=as_of, history_months=2, test_months=1)
    except InputError as error:
        raise InputError(
            f"Playbook(s) {', '.join(readers)} read P(churn), and the churn model cannot be trained on the "
            f"simulated history: {error} Pass a longer --history (e.g. 8) or more --customers."
        ) from None
    return True


def _workspace(path: Path, seed: int) -> Workspace:
    if path.exists() and any(path.iterdir()):
        raise ConflictError(
            f"{path} is not empty; a simulation starts from an empty workspace. Pass a new folder with -w, or "
            "delete this one."
        )
    # The arms are a hash salted with the workspace id: an id made from the seed makes the whole run repeatable.
    path.mkdir(parents=True, exist_ok=True)
    (path / WORKSPACE_ID_FILE).write_text(str(uuid.uuid5(uuid.NAMESPACE_URL, f"retain-simulate:{seed}")) + "\n")
    Workspace.init(path)
    config = path / CONFIG_FILE_NAME
    config.write_text(
        config.read_text()
        + f'\n# The simulated customers\' inbox (retain simulate).\n[channels.{SIMULATED_CHANNEL}]\nkind = "file"\n'
        f'path = "{SIMULATED_CHANNEL_FILE}"\n'
    )
    return Workspace.open(path)


def _ingest(ws: Workspace, facts: dict) -> None:
    for name, table in facts.items():
        if table.num_rows:
            ws.ingest(name, table)


def simulate(
    path: Path | str,
    *,
    customers: int,
    months: int,
    playbooks: Path | str,
    reactions: Reactions | None = None,
    seed: int = 0,
    model: SynthModel | str = SynthModel.SUBSCRIPTION,
    history_months: int = 6,
    step_days: int = 7,
    refresh_days: int = 28,
    end: date = date(2025, 12, 31),
    progress: Callable[[str], None] | None = None,
) -> SimulationResult:
    """Run a synthetic company ``months`` months forward with the playbooks of ``playbooks`` live.

    Parameters
    ----------
    path : Path or str
        A new (or empty) folder: the simulation's workspace.
    customers : int
        Customers of the synthetic company.
    months : int
        Months simulated with retain live, after ``history_months`` months of history ingested at once.
    playbooks : Path or str
        A folder of playbook files (e.g. the built-in library from ``retain playbook init``).
    reactions : Reactions, optional
        How customers react to each playbook (default :data:`~retain.synth.reactions.DEFAULT_REACTIONS`).
    seed : int
        Random seed of the company.
    model : SynthModel or str
        ``subscription`` or ``commerce``.
    history_months : int
        Months simulated before retain goes live (the triggers need a past).
    step_days : int
        Days between two runs of the playbooks: they run on the first of every month and then every
        ``step_days`` days within it (7: weekly; 31 or more: monthly).
    refresh_days : int
        When a playbook reads the customer profile, ``retain refresh`` runs before a run whose profile is this
        many days old or more (28: on the first of each month with weekly runs; 1: before every run). A refresh
        costs seconds, a run without one a fraction of that.
    end : date
        Last day simulated.
    progress : callable, optional
        Called with a short description of each step.

    Returns
    -------
    SimulationResult

    Raises
    ------
    ConflictError
        ``path`` is not empty.
    InputError
        A parameter is out of range, or ``playbooks`` holds no valid playbook.
    """
    from retain.services.playbook_run import run_playbooks  # the runner (pb-runner)

    if min(months, history_months, step_days, refresh_days) < 1:
        raise InputError(
            "months, history_months, step_days and refresh_days must be at least 1; got "
            f"{months}, {history_months}, {step_days}, {refresh_days}."
        )
    began = time.perf_counter()
    say = progress or (lambda _message: None)
    path = Path(path)
    ws = _workspace(path, seed)
    loaded, needs_profile = _install_playbooks(Path(playbooks), ws.path / "playbooks")
    company = SyntheticCompany(
        customers=customers,
        model=model,
        seed=seed,
        months=history_months + months,
        reactions=reactions if reactions is not None else DEFAULT_REACTIONS,
        end=end,
    )
    _ingest(ws, company.advance(history_months))
    _train_if_needed(ws, loaded, company.as_of)
    inbox, offset, seen = ws.path / SIMULATED_CHANNEL_FILE, 0, set()
    received: list[dict] = []
    counts = {"refreshes": 0}
    profiled: list[datetime | None] = [None]  # when the current profile was computed

    def run(as_of: datetime) -> None:
        """One run of the playbooks at ``as_of``; what reaches the inbox acts on the next month simulated."""
        nonlocal offset
        if needs_profile and (profiled[0] is None or as_of - profiled[0] >= timedelta(days=refresh_days)):
            refresh(ws, as_of=as_of)
            profiled[0] = as_of
            counts["refreshes"] += 1
        run_playbooks(ws, as_of=as_of)
        deliver_once(ws, worker_id=_WORKER, now=as_of + _DELIVERY_DAY)
        lines, offset = read_channel(inbox, offset)
        fresh = [line for line in lines if line["idempotency_key"] not in seen]
        seen.update(line["idempotency_key"] for line in fresh)
        received.extend(fresh)
        company.receive((line["playbook"], line["customer_id"]) for line in fresh)
        say(f"{as_of:%Y-%m-%d}: {len(fresh)} messages delivered")

    while not company.done:
        start = company.as_of
        run(start)  # on the first of the month, before the month's churn draw: acts on this month
        company.step()
        end_of_month = company.as_of
        cut = start + timedelta(days=step_days)
        while cut < end_of_month:  # later runs see the month so far; their messages act on the next month
            _ingest(ws, company.known_until(cut))
            run(cut)
            cut += timedelta(days=step_days)
        _ingest(ws, company.known_until(end_of_month))
    refreshes = counts["refreshes"]

    rows, by_customer = _compare(ws, company, received)
    truth_dir = ws.path / "ground_truth"
    truth_dir.mkdir(exist_ok=True)
    files = [truth_dir / EFFECTS_FILE, truth_dir / EFFECTS_BY_CUSTOMER_FILE, truth_dir / "churn_probability.parquet"]
    pq.write_table(pa.Table.from_pandas(pd.DataFrame([r.to_dict() for r in rows]), preserve_index=False), files[0])
    pq.write_table(pa.Table.from_pandas(by_customer, preserve_index=False), files[1])
    pq.write_table(company.ground_truth(), files[2])
    return SimulationResult(
        workspace=ws.path,
        customers=customers,
        months=months,
        history_months=history_months,
        seed=seed,
        model=company.model,
        refreshes=refreshes,
        messages=len(seen),
        seconds=time.perf_counter() - began,
        playbooks=rows,
        files=files,
    )


def _compare(
    ws: Workspace, company: SyntheticCompany, received: list[dict]
) -> tuple[list[SimulatedPlaybook], pd.DataFrame]:
    """Measured (``playbook_results``) beside true effects, per playbook; and the per-enrolment truth."""
    as_of = company.as_of
    facts = ws.facts()
    enrolments = facts.system_table(SystemTableName.PLAYBOOK_ENROLMENTS)
    messages = pd.DataFrame(received, columns=["playbook", "customer_id"]) if received else None
    rows, parts = [], []
    for result in playbook_results(ws, as_of=as_of) if _has_enrolments(facts) else []:
        mine = enrolments.filter(
            (enrolments.playbook == result.playbook)
            & (enrolments.goal_metric == result.metric)
            & (enrolments.goal_window_days == result.window_days)
        )
        measured = facts.backend.to_pandas(
            outcomes(facts, mine, metric=result.metric, window_days=result.window_days, as_of=as_of)
        ).assign(goal_metric=result.metric, goal_window_days=result.window_days)
        truth = company.true_effects(measured) if len(measured) else pd.DataFrame(columns=list(EFFECT_COLUMNS))
        parts.append(truth)
        rows.append(_row(result, truth, _holdout_messages(messages, truth, result.playbook)))
    by_customer = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(EFFECT_COLUMNS))
    return rows, by_customer


def _has_enrolments(facts) -> bool:
    enrolments = facts.system_table(SystemTableName.PLAYBOOK_ENROLMENTS)
    return bool(facts.backend.to_pyarrow(enrolments.count()).as_py())


def _holdout_messages(messages: pd.DataFrame | None, truth: pd.DataFrame, playbook: str) -> int:
    if messages is None or truth.empty:
        return 0
    holdout = set(truth.loc[truth.arm == "holdout", "customer_id"])
    mine = messages[messages.playbook == playbook]
    return int(mine.customer_id.isin(holdout).sum())


def _row(result: PlaybookResult, truth: pd.DataFrame, holdout_messages: int) -> SimulatedPlaybook:
    treated = truth[truth.arm == "treatment"]
    uplift = result.uplift
    raw = uplift.raw if uplift is not None else None
    cuped = uplift.cuped if uplift is not None else None
    srm = uplift.sample_ratio if uplift is not None else None
    return SimulatedPlaybook(
        playbook=result.playbook,
        goal_metric=result.metric,
        window_days=result.window_days,
        enrolled=len(truth),
        treated=len(treated),
        holdout=int((truth.arm == "holdout").sum()),
        received=int(treated.received.sum()),
        true_effect=float(treated.effect.mean()) if len(treated) else float("nan"),
        estimate=None if raw is None else raw.effect,
        ci_low=None if raw is None else raw.ci_low,
        ci_high=None if raw is None else raw.ci_high,
        cuped_estimate=None if cuped is None else cuped.estimate.effect,
        cuped_ci_low=None if cuped is None else cuped.estimate.ci_low,
        cuped_ci_high=None if cuped is None else cuped.estimate.ci_high,
        cuped_width_ratio=None if cuped is None else cuped.width_ratio,
        srm_p_value=None if srm is None else srm.p_value,
        holdout_messages=holdout_messages,
    )
