"""Domain events of proposals, as blinker signals. Declared here, by their publisher; features
above subscribe in their ``install(app)``, which ``create_app`` calls: importing a module
connects nothing.

``proposal_qualified``
    sender: the ``Proposal``. Sent inside the transaction that qualified it (``services._qualify``),
    and again by each retry while it waits to be filed (``services.file_waiting``), inside a
    savepoint: a receiver that raises rolls back only its own work, leaves the proposal waiting
    to be filed, and the support that reached the threshold stands. Receivers must therefore
    be idempotent. Cases subscribes: it files and dispatches the case.
``proposal_rejected``
    sender: the ``Proposal``; ``actor``, ``reason_code``, ``note``. Sent when the committee
    rejects it, in the reviewing transaction. Deliberation subscribes: it writes the rejection
    to the community's public moderation log.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

proposal_qualified = _signals.signal("proposal-qualified")
proposal_rejected = _signals.signal("proposal-rejected")
