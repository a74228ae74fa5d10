"""Playbooks that act, and prove it: playbook files, triggers, actions, outbox, holdouts and measured uplift.

See DESIGN.md section 9. Each part is imported on its own; this package re-exports nothing:

- the playbook file :mod:`retain.automation.spec` (read by :mod:`retain.automation.loading`), the built-in
  playbooks :mod:`retain.automation.library`, message templates :mod:`retain.automation.templates` and signed
  customer links :mod:`retain.automation.signing`;
- when a playbook fires: :mod:`retain.automation.triggers` (engine queries, DuckDB and PySpark);
- delivery: :mod:`retain.automation.outbox` (durable messages), :mod:`retain.automation.channels` (SMTP, signed
  webhook, JSON Lines file) and :mod:`retain.automation.worker`;
- what it achieved: :mod:`retain.automation.uplift`.
"""
