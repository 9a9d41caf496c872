"""Slack: Bolt listeners, Block Kit builders and the Slack messenger."""
