"""Domain events of deliberation, as blinker signals declared by their publisher (subscribers
connect in their ``install(app)``, called by ``create_app``; importing connects nothing).

``comment_hidden``
    sender: the ``Comment``; ``actor`` (None when reports hid it), ``reason_code`` and
    ``automatic``. Sent in the hiding transaction, by the committee's hide and by the automatic
    hide after reports alike. No subscriber yet.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

comment_hidden = _signals.signal("comment-hidden")
