"""Signals other areas subscribe to, sent after the transaction that caused them commits.

``recording_stopped(recording)``: capture ended (sealed or not) — R17 checks, notifications.
``recording_sealed(recording)``: the recording is signed and stored — peaks, replication (R23).
"""

from django.dispatch import Signal

recording_stopped = Signal()
recording_sealed = Signal()
