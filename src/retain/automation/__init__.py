"""Playbooks that act, and prove it: triggers, conditions, actions, holdouts, outbox and measured uplift."""
