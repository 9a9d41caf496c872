"""Customer compliments and kudos: scrubbed, shared only with the agent's consent, never ranked."""
