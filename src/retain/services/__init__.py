"""Application services: one function per use case, typed on :class:`~retain.workspace.Workspace`.

Interfaces (CLI, API, report, dashboard, notebooks) call these and nothing below them; domain packages never
import them. Each service owns its unit of work (one state-database transaction for what must change together)
and its locks.

=================  ==============================================================================
service            use case
=================  ==============================================================================
``refresh``        every mart into a new snapshot, current together with its profiles
``train``          the churn model: dataset, temporal backtest, final fit, new version
``score``          every customer of the model's population ranked by expected loss
``at_risk``        the list a team works from: filtered (risk, segment, reason), explained, with contacts
``customer_360``   one customer's profile, segments and timeline
``metrics`` …      views of the current snapshot: KPIs, cohorts, segments
``changes``        what changed since the previous snapshot (newly at risk, moves, KPI deltas)
``status``         what the workspace holds
``ingest_folder``  every table file of a folder laid out like ``retain synth`` output, in dependency order
``playbooks``      install the built-in playbooks, list and validate the workspace's (``services.playbooks``)
``deliver_once``   deliver the due outbox messages once; ``run_worker`` keeps doing it (``services.delivery``)
``results``        treatment against holdout per playbook (``services.playbook_results.playbook_results``)
``accept_facts``   validate facts posted live into the inbox; ``flush_inbox`` / ``flush_and_fire`` move them
                   into the lake (and run event playbooks) (``services.live_facts``)
=================  ==============================================================================
"""

from retain.health import AT_RISK_COLUMNS
from retain.marts.registry import MartName
from retain.marts.snapshot import Snapshot
from retain.marts.views import CohortView, cohort_view, metrics_view, segments_view
from retain.models.churn.baselines import BaselineComparison
from retain.services.analytics import SnapshotView, cohorts, metrics, segments
from retain.services.at_risk import AtRiskList, at_risk
from retain.services.changes import Changes, changes
from retain.services.customers import Customer360, customer_360
from retain.services.ingest_folder import FolderIngest, ingest_folder
from retain.services.models import (
    baseline_comparison,
    current_model_version,
    model_comparison,
    model_metadata,
    model_versions,
)
from retain.services.refresh import RefreshProgress, RefreshResult, refresh
from retain.services.scoring import Scored, score
from retain.services.snapshots import current_snapshot, marts_store, require_snapshot
from retain.services.status import TableSummary, WorkspaceStatus, status, table_summaries
from retain.services.training import DEFAULT_HORIZON_DAYS, TrainResult, churn_registry, train

__all__ = [
    "AT_RISK_COLUMNS",
    "DEFAULT_HORIZON_DAYS",
    "AtRiskList",
    "BaselineComparison",
    "Changes",
    "CohortView",
    "Customer360",
    "FolderIngest",
    "MartName",
    "RefreshProgress",
    "RefreshResult",
    "Scored",
    "Snapshot",
    "SnapshotView",
    "TableSummary",
    "TrainResult",
    "WorkspaceStatus",
    "at_risk",
    "baseline_comparison",
    "changes",
    "churn_registry",
    "cohort_view",
    "cohorts",
    "current_model_version",
    "current_snapshot",
    "customer_360",
    "ingest_folder",
    "marts_store",
    "metrics",
    "metrics_view",
    "model_comparison",
    "model_metadata",
    "model_versions",
    "refresh",
    "require_snapshot",
    "score",
    "segments",
    "segments_view",
    "status",
    "table_summaries",
    "train",
]
