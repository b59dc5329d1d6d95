"""References: the physical limits that the scenarios are compared with."""
