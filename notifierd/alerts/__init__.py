"""Alerts: lifecycle (trigger, join, acknowledge, resolve) and escalation on timers."""
