"""An agent's own page (the Slack App Home, the Teams home card) and the preferences it sets."""
