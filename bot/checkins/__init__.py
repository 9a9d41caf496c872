"""After a hard call: detect it, decide whether to nudge, send a private check-in, record the answer."""
