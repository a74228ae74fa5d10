"""Playbooks that act, and prove it: playbook files, triggers, actions, outbox, holdouts and measured uplift.

See DESIGN.md section 9. The playbook file is :mod:`retain.automation.spec` (read by
:mod:`retain.automation.loading`); message templates :mod:`retain.automation.templates`; signed customer links
:mod:`retain.automation.signing`; the built-in playbooks :mod:`retain.automation.library`.
"""
