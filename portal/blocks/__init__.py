"""Blocks (people layer): who the committee has barred from taking part in a community, for a
time or for good. Deliberation imposes and lifts them; every feature asks ``is_blocked``."""
