"""Reporting: what the features below are doing, for residents, the press and other systems
(the dashboard, open data, feeds, Open311). Reads the features; no feature imports it."""
