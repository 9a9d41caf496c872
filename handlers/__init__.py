"""Transports: turn outside requests (Slack, Teams, phone systems, the sandbox) into domain calls."""
