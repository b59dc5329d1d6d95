"""Peers: other job systems loaded with the same wrk script, connection counts and durations as
the submit and status-read scenarios."""
