"""Scenarios: what jobgate itself does under load."""
