"""The search across recordings (``taspa.recorder.search``) with 1M sealed recordings in
PostgreSQL: median milliseconds per query, for a court's secretary, a regional head and the
system administrator.

Run: ``.venv/bin/python -m bench.search [--rows 1000000] [--runs 7]`` (about 10 minutes on 2
cores). A throw-away PostgreSQL (``bench.scale.Postgres``: initdb in a temporary directory,
fsync off for the load) gets Taspa's schema from ``taspa migrate`` — with the search indexes of
migrations ``courts.0004`` and ``recorder.0011`` — then ``bench.scale.load``'s synthetic court
system (50 courts in 17 regions, one case per 4 hearings, one sealed recording per hearing,
start times spread over ten years) and, straight from SQL (``INSERT … SELECT … FROM
generate_series``), 2 participants per hearing (names from 48 first names × 64 surnames) and 3
marks per recording (the judge, a participant, one mark in 20 a free-text note). Each query is
``search_recordings`` itself, through Django (the page's rows and their participants fetched),
run once to warm the cache and then ``--runs`` times; the plan PostgreSQL chose for the slowest
query is printed below the table.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.scale import Postgres, _env, load, setup_django, taspa

FIRST = (
    "Айгүл", "Бекзат", "Дана", "Ерлан", "Жанар", "Нұрлан", "Сәуле", "Талгат", "Ұлжан", "Асхат",
    "Гүлнар", "Данияр", "Елена", "Игорь", "Карина", "Марат", "Наталья", "Олжас", "Павел", "Роза",
    "Самат", "Татьяна", "Уалихан", "Фарида", "Хадиша", "Шолпан", "Әсел", "Ізбасар", "Айдос",
    "Алия", "Арман", "Берик", "Динара", "Ержан", "Зарина", "Ильяс", "Камила", "Лаура", "Мадина",
    "Нурсултан", "Омар", "Руслан", "Сабина", "Тимур", "Эльмира", "Юлия", "Ясмин", "Азамат",
)  # fmt: skip
LAST = (
    "Абдрахманов", "Байжанов", "Жұмабаев", "Искаков", "Қасымов", "Мұхамеджанов", "Нұрпейісов",
    "Оспанов", "Сәрсенбаев", "Тоқтаров", "Үмбетов", "Шәріпов", "Ахметов", "Бекова", "Волков",
    "Гусева", "Досмухамедов", "Ермекова", "Жаксылыков", "Зайцев", "Иванова", "Калиев",
    "Лебедев", "Мусина", "Назарбаева", "Орлов", "Петрова", "Рахимов", "Сидоров", "Тулегенова",
    "Усенов", "Федорова", "Хасенов", "Цой", "Чернов", "Шевченко", "Щукина", "Эмиров", "Юсупов",
    "Яковлева", "Серікұлы", "Әбілов", "Өмірзақов", "Құдайбергенов", "Ғабитов", "Іргебаев",
    "Сапарова", "Кенжебаев", "Айтбаев", "Бурабаев", "Ким", "Ли", "Пак", "Нам", "Сергеев",
    "Кузнецов", "Попова", "Смирнов", "Морозова", "Новиков", "Соколова", "Куанышев", "Тен",
    "Омаров",
)  # fmt: skip
NOTES = ("Свидетель вышел из зала", "Перерыв на 10 минут", "Оглашена экспертиза",
         "Куәгер шақырылды")  # fmt: skip

PARTICIPANTS = """
INSERT INTO courts_hearingparticipant (hearing_id, name, role, user_id)
SELECT h, (%(first)s::text[])[abs(hashint8extended(h * 2 + p, 71)) %% 48 + 1] || ' '
          || (%(last)s::text[])[abs(hashint8extended(h * 2 + p, 72)) %% 64 + 1],
       CASE WHEN p = 0 THEN 'plaintiff' ELSE 'defendant' END, NULL
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) h CROSS JOIN generate_series(0, 1) p
"""
# The second mark is the first participant's, named by the same hash as PARTICIPANTS (the loader
# gives each hearing the recording of its own id): no join, one pass over the recordings.
MARKS = """
INSERT INTO recorder_mark (recording_id, speaker, role, offset_s, at, created_by_id, created_at,
                           supersedes_id)
SELECT r.id,
       CASE WHEN m = 0 THEN 'Judge ' || r.hearing_id %% 997
            WHEN m = 2 AND abs(hashint8extended(r.id, 73)) %% 20 = 0
                 THEN (%(notes)s::text[])[abs(hashint8extended(r.id, 74)) %% 4 + 1]
            ELSE (%(first)s::text[])[abs(hashint8extended(r.hearing_id * 2, 71)) %% 48 + 1] || ' '
                 || (%(last)s::text[])[abs(hashint8extended(r.hearing_id * 2, 72)) %% 64 + 1] END,
       CASE WHEN m = 0 THEN 'judge' WHEN m = 2 THEN 'note' ELSE 'plaintiff' END,
       m * 60.0 + 5, r.started_at + (m * 60 + 5) * interval '1 second', r.signed_by_id,
       r.started_at, NULL
FROM recorder_recording r
CROSS JOIN generate_series(0, 2) m
WHERE r.id BETWEEN %(lo)s AND %(hi)s
"""
TRGM = {
    "participant_name_trgm": "courts_hearingparticipant USING gin (UPPER(name) gin_trgm_ops)",
    "mark_speaker_trgm": "recorder_mark USING gin (UPPER(speaker) gin_trgm_ops)",
}
CHUNK = 250_000


def load_people_and_marks(url: str, rows: int) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        for name in TRGM:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        params = {"first": list(FIRST), "last": list(LAST), "notes": list(NOTES)}
        for lo in range(1, rows + 1, CHUNK):
            bounds = params | {"lo": lo, "hi": min(lo + CHUNK - 1, rows)}
            conn.execute(PARTICIPANTS, bounds)
        for lo in range(1, rows + 1, CHUNK):
            bounds = params | {"lo": lo, "hi": min(lo + CHUNK - 1, rows)}
            conn.execute(MARKS, bounds)
            print(f"  marks up to {bounds['hi']:,}, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
        for name, target in TRGM.items():
            conn.execute(f"CREATE INDEX {name} ON {target}")
        conn.execute("VACUUM (ANALYZE) courts_hearingparticipant, recorder_mark, courts_case")
    return time.perf_counter() - started


def queries() -> list[tuple[str, dict]]:
    """(label, RecordingQuery fields): common and rare words, a range, and a miss."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT number FROM courts_case WHERE court_id = 1 ORDER BY id DESC LIMIT 1 OFFSET 7"
        )
        number = cursor.fetchone()[0]
    year = {"date_from": date(2022, 3, 1), "date_to": date(2022, 3, 31)}
    return [
        ("no filter but a date range (one month)", year),
        (f"case number, whole ({number})", {"case_number": number}),
        (f"case number, a part ({number[2:8]})", {"case_number": number[2:8]}),
        ("party: a common surname (Омаров, 1 hearing in 32)", {"party": "Омаров"}),
        ("party: a full name (Дана Серікұлы, 1 hearing in 1,536)", {"party": "Дана Серікұлы"}),
        ("party + date range", {"party": "Серікұлы"} | year),
        ("mark text: a note (экспертиза, 1 recording in 80)", {"mark_text": "экспертиза"}),
        ("mark text: a speaker (Куанышев)", {"mark_text": "Куанышев"}),
        ("no match (Zzyzx)", {"party": "Zzyzx"}),
        ("no match in a mark (Qwerty)", {"mark_text": "Qwerty"}),
    ]


def measure(runs: int) -> tuple[list[str], list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from taspa.courts.models import User
    from taspa.recorder.search import RecordingQuery, search_recordings

    users = {
        "secretary (1 court)": User.objects.get(username="sec-abai-1-1"),
        "regional head (3 courts)": User.objects.get(username="head-1"),
        "system admin (50 courts)": User.objects.get(username="root"),
    }
    lines, worst = [], (0.0, "", "")
    for label, fields in queries():
        query = RecordingQuery(**fields)
        cells = []
        for who, user in users.items():
            user = User.objects.get(pk=user.pk)  # a fresh request's user
            search_recordings(user, query)  # warm
            times, found = [], 0
            for _ in range(runs):
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    page = search_recordings(user, query)
                times.append((time.perf_counter() - started) * 1e3)
                found = len(page.recordings)
            median = statistics.median(times)
            cells.append(f"{median:.1f} ({found}{'+' if page.more else ''})")
            if median > worst[0]:
                slowest = max(captured.captured_queries, key=lambda q: float(q["time"]))["sql"]
                worst = (median, f"{label} — {who}", slowest)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    header = "| query | " + " | ".join(users) + " |"
    table = [header, "| --- |" + " ---: |" * len(users), *lines]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + worst[2])
        plan = [f"slowest: {worst[1]}, {worst[0]:.1f} ms"] + [r[0] for r in cursor.fetchall()]
    return table, plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taspa-bench-search-"))
    postgres = Postgres()
    try:
        postgres.start()
        home = work / "home"
        home.mkdir()
        env = _env(home, postgres.url)
        taspa(env, "migrate", "-v", "0")
        print(f"loading {args.rows:,} recordings …", file=sys.stderr, flush=True)
        seconds = load(postgres.url, 0, args.rows)
        seconds += load_people_and_marks(postgres.url, args.rows)
        setup_django(home, postgres.url)
        table, plan = measure(args.runs)
        print(f"{args.rows:,} sealed recordings, {2 * args.rows:,} participants, "
              f"{3 * args.rows:,} marks (loaded in {seconds:.0f} s); median ms of {args.runs} "
              "runs (rows on the first page, 50 a page)")  # fmt: skip
        print()
        print("\n".join(table))
        print()
        print(f"PostgreSQL {postgres.bin.parent.name}; " + "\n    ".join(plan))
    finally:
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
