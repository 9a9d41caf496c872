"""Pulse surveys: validated instruments as data, per-team rounds, the modal, the agent's own view."""
