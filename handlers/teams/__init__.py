"""Microsoft Teams: the Teams SDK app, Adaptive Card builders, the Teams Messenger and activity handlers."""
