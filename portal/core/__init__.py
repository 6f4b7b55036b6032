"""Cross-cutting pieces every feature uses: clock, types, pagination, security, errors."""
