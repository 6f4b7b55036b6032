"""Domain events of votes, as blinker signals declared by their publisher (subscribers connect
in their ``install(app)``, called by ``create_app``; importing connects nothing).

``vote_opened``
    sender: the ``Vote``, once, in the transaction that froze its electors. No subscriber yet.
``vote_closed``
    sender: the ``Vote``, once, in the transaction that finalised it (totals published,
    ballots gone). The meetings may show the result beside a decision. No subscriber yet.

Neither carries anything about who chose what: there is nothing left to carry.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

vote_opened = _signals.signal("vote-opened")
vote_closed = _signals.signal("vote-closed")
