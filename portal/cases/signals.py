"""Domain events of cases, as blinker signals declared by their publisher (subscribers connect
in their ``install(app)``, called by ``create_app``; importing connects nothing).

``case_closed``
    sender: the ``Case``; ``actor`` (None for the sweep) and ``reason`` (the close reason:
    ``resolved`` when verification settled it, else one of ``services.CLOSE_REASONS``). Sent
    in the closing transaction, after the close is flushed. No subscriber yet.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

case_closed = _signals.signal("case-closed")
