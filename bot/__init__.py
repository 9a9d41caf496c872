"""Breather: private check-ins after hard calls, pulse surveys, consented kudos, team-level digests."""
