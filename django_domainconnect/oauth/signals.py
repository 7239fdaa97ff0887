"""Signals of the async flow, sent after the change is committed.

``grant_created``: kwargs ``grant``, ``user``. ``grant_revoked``: kwargs ``grant``, ``reason`` ("revoked by
user", "revoked by staff", "code_replayed" …). The sender is the ``Grant`` model class.
"""

from __future__ import annotations

from django.dispatch import Signal

grant_created = Signal()
grant_revoked = Signal()
