"""Automation: playbooks that act (triggers, conditions, actions), the outbox and its channels, measured effect.

Import from the modules (``retain.automation.outbox``, ``retain.automation.channels`` …); this package exports
nothing itself, so that each module stays the one place its names come from.
"""
