"""R19/R20: the audit chain catches every kind of tampering with the table itself."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from taspa.audit.actions import record
from taspa.audit.models import AppendOnlyError, AuditEvent
from taspa.audit.selectors import verify_audit_chain

TABLE = AuditEvent._meta.db_table


def drop_triggers():
    """What an attacker with database-owner rights does first."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER audit_event_no_change ON {TABLE}")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def chain(db):
    for number in range(1, 6):
        record(
            actor=None,
            action="test.event",
            object_type="thing",
            object_id=str(number),
            payload={"n": number, "name": "Қаражат"},
        )
    assert verify_audit_chain().ok
    return list(AuditEvent.objects.order_by("seq"))


def test_r19_intact_chain_verifies(chain):
    verdict = verify_audit_chain()
    assert verdict.ok and verdict.events_checked == 5


def test_r19_altered_payload_is_named(chain):
    drop_triggers()
    sql(f"UPDATE {TABLE} SET payload = %s WHERE seq = 3", ['{"n": 33, "name": "Қаражат"}'])
    verdict = verify_audit_chain()
    assert (verdict.ok, verdict.first_bad_seq, verdict.problem) == (False, 3, "payload altered")


def test_r19_altered_actor_is_named(chain):
    drop_triggers()
    sql(f"UPDATE {TABLE} SET actor_label = 'someone-else' WHERE seq = 2")
    verdict = verify_audit_chain()
    assert (verdict.ok, verdict.first_bad_seq) == (False, 2)


def test_r19_deleted_event_is_named(chain):
    drop_triggers()
    sql(f"DELETE FROM {TABLE} WHERE seq = 4")
    verdict = verify_audit_chain()
    assert (verdict.ok, verdict.first_bad_seq) == (False, 4)
    assert "deleted" in verdict.problem


def test_r19_deleted_tail_is_noticed(chain):
    drop_triggers()
    sql(f"DELETE FROM {TABLE} WHERE seq = 5")
    verdict = verify_audit_chain()
    assert (verdict.ok, verdict.first_bad_seq) == (False, 5)


def test_r19_inserted_event_is_named(chain):
    """Insert a forged event 3 and shift the later ones up, as a careful forger would."""
    drop_triggers()
    for seq in (5, 4, 3):
        sql(f"UPDATE {TABLE} SET seq = seq + 1 WHERE seq = %s", [seq])
    forged = chain[2]
    sql(
        f"INSERT INTO {TABLE} (seq, at, actor_label, action, object_type, object_id, payload,"
        " payload_digest, prev_hash, hash) VALUES (3, %s, 'forger', 'test.event', 'thing', '99',"
        " %s, %s, %s, %s)",
        [
            forged.at,
            '{"n": 3, "name": "Қаражат"}',
            forged.payload_digest,
            chain[1].hash,
            forged.hash,
        ],
    )
    verdict = verify_audit_chain()
    assert not verdict.ok
    assert verdict.first_bad_seq == 3


def test_r19_reordered_events_are_named(chain):
    drop_triggers()
    sql(f"UPDATE {TABLE} SET seq = 100 WHERE seq = 2")
    sql(f"UPDATE {TABLE} SET seq = 2 WHERE seq = 3")
    sql(f"UPDATE {TABLE} SET seq = 3 WHERE seq = 100")
    verdict = verify_audit_chain()
    assert (verdict.ok, verdict.first_bad_seq) == (False, 2)


def test_r19_rechained_forgery_without_the_key_is_caught(chain):
    """Recomputing plain SHA-256 links is not enough: the chain is keyed outside the database."""
    import hashlib

    from taspa.audit.policy import EventFields, canonical_json

    drop_triggers()
    event = chain[4]
    fields = EventFields(
        event.seq,
        event.at.isoformat(),
        "forger",
        event.action,
        event.object_type,
        event.object_id,
        event.payload_digest,
        event.prev_hash,
    )
    fake_hash = hashlib.sha256(canonical_json(fields.__dict__)).hexdigest()
    sql(f"UPDATE {TABLE} SET actor_label = 'forger', hash = %s WHERE seq = 5", [fake_hash])
    sql("UPDATE audit_audithead SET hash = %s WHERE id = 1", [fake_hash])
    assert verify_audit_chain().first_bad_seq == 5


def test_r20_application_never_updates_or_deletes_events(chain):
    event = chain[0]
    event.action = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(action="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    "statement", ["UPDATE {t} SET action = 'x' WHERE seq = 1", "DELETE FROM {t} WHERE seq = 1"]
)
def test_r20_database_refuses_update_and_delete(chain, statement):
    with pytest.raises(DatabaseError), transaction.atomic():
        sql(statement.format(t=TABLE))
    assert AuditEvent.objects.get(seq=1).action == "test.event"


def test_audit_verify_command_names_first_bad_event(chain, capsys):
    call_command("audit", "verify")
    assert "audit chain OK: 5 events" in capsys.readouterr().out
    drop_triggers()
    sql(f"UPDATE {TABLE} SET object_id = '7' WHERE seq = 4")
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify")
    assert failure.value.returncode == 1
    assert "event 4" in str(failure.value)


def test_every_write_appends_an_event_with_its_actor(world):
    actions_seen = list(AuditEvent.objects.values_list("action", flat=True))
    assert {"court.create", "user.create", "courtroom.create"} <= set(actions_seen)
    world.hearing()
    last = AuditEvent.objects.order_by("-seq").first()
    assert last.action == "hearing.schedule"
    assert last.actor_label.startswith("root#")
    assert verify_audit_chain().ok
