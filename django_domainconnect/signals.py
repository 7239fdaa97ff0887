"""Signals sent after a change has been committed (``transaction.on_commit``).

``template_applied``: kwargs ``applied`` (``AppliedTemplate``), ``outcome`` (``ApplyOutcome``), ``user``,
``flow``. ``template_reverted``: kwargs ``domain``, ``host``, ``provider_id``, ``service_id``,
``instance_ids``, ``outcome`` (``RevertOutcome``), ``user``, ``flow``. The sender is the ``services`` module's
``AppliedTemplate`` model class. Receivers run after the commit: an exception there cannot undo the change.
"""

from __future__ import annotations

from django.dispatch import Signal

template_applied = Signal()
template_reverted = Signal()
