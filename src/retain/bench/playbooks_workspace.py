"""The workspace ``retain bench playbooks`` runs in: the synthetic company, a churn model, a refresh, 10 playbooks.

Prepared once per size and cached (a ``ready.json`` written last), under ``work_dir/playbooks-<N>-seed<S>``:

* its lake **links** the canonical tables of the cached analytics workspace (:func:`prepare_workspace`), so
  nothing is copied, and what the playbook runs write to the lake (the system tables) stays in this workspace;
* a churn model (so that the ``risk`` playbooks have a ``p_churn`` and a reason to read) trained **once** on a
  smaller company of the same generator and seed (``model_customers``, default 20,000) and copied in — the
  benchmark is about the playbooks, and training on 1M customers is another benchmark (``bench predict``);
* a refresh at :data:`AS_OF` (profiles, risk and segments into the marts and the state database), timed and
  recorded in ``ready.json``; it is not the benchmarked job;
* the built-in library installed (``install_playbooks``), and the 10 playbooks of :data:`PLAYBOOKS` — every
  trigger kind the library uses — enabled with their email steps turned into webhook steps to :data:`CHANNEL`
  (the local receiver; the URL is given when the workspace is opened, see :func:`open_playbooks_workspace`).

The state database after the refresh is kept as the pristine one: every run works on a copy of it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from retain.bench.analytics_bench import AS_OF, prepare_workspace
from retain.bench.measure import measure
from retain.contract.system_tables import SystemTableName
from retain.contract.tables import TABLES
from retain.errors import InputError
from retain.workspace import Workspace

__all__ = [
    "CHANNEL",
    "CHANNEL_SECRET",
    "PLAYBOOKS",
    "PlaybooksWorkspace",
    "clear_run_outputs",
    "copy_state",
    "open_playbooks_workspace",
    "prepare_playbooks_workspace",
]

PLAYBOOKS = (
    "welcome",  # signup
    "onboarding_nudge",  # onboarding
    "wake_up",  # inactive
    "birthday",  # date
    "complaint_help",  # ticket
    "detractor_follow_up",  # survey (detractor)
    "promoter_ask",  # survey (promoter)
    "dunning",  # risk, reason payment_failed
    "re_engagement",  # risk, reason disengaged
    "win_back",  # churned
)
"""The 10 library playbooks the benchmark enables: all 8 trigger kinds the library uses."""

CHANNEL = "bench"
"""The webhook channel every message goes through (the benchmark's receiver on loopback)."""
CHANNEL_SECRET = "retain-bench-webhook-secret-0123456789"
MODEL_CUSTOMERS = 20_000
_READY = "ready.json"
_STATE = "state.db"


@dataclass(frozen=True)
class PlaybooksWorkspace:
    """A prepared workspace: its folder, its pristine state database and what the preparation took."""

    path: Path
    customers: int
    refresh_seconds: float
    train_seconds: float | None
    """``None`` when the model was trained by an earlier preparation (of another size) and only copied."""
    model_customers: int

    @property
    def pristine_state(self) -> Path:
        return self.path / _STATE


def _link_lake(source: Workspace, target: Path) -> None:
    """``target/data/<table>`` → the source workspace's table folder, for every canonical table it has."""
    (target / "data").mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        folder = source.lake.table_dir(name)
        if folder.is_dir():
            (target / "data" / str(name)).symlink_to(folder.resolve(), target_is_directory=True)


def _linked_workspace(source: Workspace, path: Path) -> Workspace:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    _link_lake(source, path)
    return Workspace.init(path)


def _webhook_steps(spec: dict) -> dict:
    """``spec`` enabled, each email step a webhook step to :data:`CHANNEL` (``event``: the template's name)."""
    steps = []
    for step in spec["steps"]:
        if step.get("action") == "email":
            kept = {k: v for k, v in step.items() if k in ("delay", "recheck")}
            step = {"action": "webhook", "channel": CHANNEL, "event": step["template"], **kept}
        steps.append(step)
    return {**spec, "enabled": True, "steps": steps}


def _install(ws: Workspace) -> None:
    from retain.services.playbooks import install_playbooks, playbooks_folder

    install_playbooks(ws)
    folder = playbooks_folder(ws)
    for name in PLAYBOOKS:
        file = folder / f"{name}.yaml"
        spec = yaml.safe_load(file.read_text(encoding="utf-8"))
        file.write_text(yaml.safe_dump(_webhook_steps(spec), sort_keys=False), encoding="utf-8")


def _model(work_dir: Path, customers: int, seed: int, say: Callable[[str], None]) -> tuple[Path, float | None]:
    """The churn model folder trained on ``customers`` synthetic customers (cached), and its training seconds."""
    from retain.services import train

    root = work_dir / f"playbooks-model-{customers}-seed{seed}"
    folder = root / "workspace" / "models" / "churn"
    if (root / _READY).is_file():
        return folder, None
    source = prepare_workspace(customers, work_dir, seed=seed, on_step=say)
    ws = _linked_workspace(source, root / "workspace")
    say(f"train the churn model on {customers:,} customers (once; copied into every size)")
    m, _ = measure(lambda: train(ws, as_of=AS_OF, progress=lambda s: say(f"  {s}")))
    (root / _READY).write_text(json.dumps({"customers": customers, "train_seconds": m.seconds}))
    return folder, m.seconds


def prepare_playbooks_workspace(
    customers: int,
    work_dir: Path,
    *,
    seed: int = 0,
    model_customers: int = MODEL_CUSTOMERS,
    on_step: Callable[[str], None] | None = None,
) -> PlaybooksWorkspace:
    """The prepared (cached) workspace of ``customers`` synthetic customers (see the module docstring).

    Raises
    ------
    InputError
        ``customers`` or ``model_customers`` is below 1.
    """
    from retain.services import refresh

    say = on_step or (lambda _s: None)
    if model_customers < 1:
        raise InputError(f"model_customers must be at least 1, got {model_customers}.")
    work_dir = Path(work_dir)
    source = prepare_workspace(customers, work_dir, seed=seed, on_step=say)
    root = work_dir / f"playbooks-{customers}-seed{seed}"
    if (root / _READY).is_file():
        ready = json.loads((root / _READY).read_text())
        return PlaybooksWorkspace(
            root / "workspace", customers, ready["refresh_seconds"], ready["train_seconds"], ready["model_customers"]
        )
    shutil.rmtree(root, ignore_errors=True)
    model, train_seconds = _model(work_dir, model_customers, seed, say)
    ws = _linked_workspace(source, root / "workspace")
    shutil.copytree(model, ws.path / "models" / "churn", dirs_exist_ok=True)
    _install(ws)
    say(f"refresh {customers:,} customers at {AS_OF:%Y-%m-%d} (profiles and risk for the playbooks)")
    m, _ = measure(lambda: refresh(ws, as_of=AS_OF))
    ws.state.dispose()
    if "backend" in ws.__dict__:
        ws.backend.disconnect()
    ready = {
        "customers": customers,
        "refresh_seconds": m.seconds,
        "train_seconds": train_seconds,
        "model_customers": model_customers,
    }
    (root / _READY).write_text(json.dumps(ready, indent=2))
    return PlaybooksWorkspace(ws.path, customers, m.seconds, train_seconds, model_customers)


def copy_state(prepared: PlaybooksWorkspace, target: Path) -> Path:
    """A copy of the pristine state database at ``target`` (SQLite's backup: consistent, WAL included)."""
    target.unlink(missing_ok=True)
    with sqlite3.connect(prepared.pristine_state) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return target


def clear_run_outputs(prepared: PlaybooksWorkspace) -> None:
    """Remove what playbook runs wrote to the lake (the system tables), so the next run starts where the first did."""
    for name in SystemTableName:
        shutil.rmtree(prepared.path / "data" / str(name), ignore_errors=True)


def open_playbooks_workspace(prepared: PlaybooksWorkspace, state: Path, receiver_url: str) -> Workspace:
    """The prepared workspace on the state database ``state``, its :data:`CHANNEL` pointed at ``receiver_url``."""
    channel = {"kind": "webhook", "url": receiver_url, "secret": CHANNEL_SECRET, "timeout_seconds": 10}
    return Workspace.open(prepared.path, database_url=f"sqlite:///{state}", channels={CHANNEL: channel})
