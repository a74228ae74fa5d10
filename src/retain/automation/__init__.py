"""Automation: playbooks that act, and prove it (DESIGN.md section 9).

Subpackages and modules are imported on their own (e.g. ``retain.automation.triggers``); this package re-exports
nothing so that each part stays independent.
"""
