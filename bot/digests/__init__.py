"""Team-level, anonymised burnout summaries for team leads: digest, chart, surge alert."""
