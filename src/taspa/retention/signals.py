"""``retention_changed(case=...)``: the case's judgment date or legal hold changed (R24);
sent after the transaction commits (replication sends the change to the centre, R23)."""

from django.dispatch import Signal

retention_changed = Signal()
