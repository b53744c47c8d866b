#!/usr/bin/env python3
"""SQLite's own cost of a backfill's rows: the floor under any SQLite backfill of this schema.

Takes a database a backfill wrote (`CAIRN_BENCH_KEEP_DB=/tmp/bench.db CAIRN_BENCH_QUICK=1 cargo bench -p
cairn-indexer --bench indexer`), then inserts its rows (raw events, account rows, every projection row) into a
fresh database with the same schema through SQLite's C API (Python's `sqlite3`, `executemany`, one transaction
per ~9,000 events, WAL, synchronous=NORMAL as the indexer runs it), and prints the CPU seconds per stored log.
No Rust, no sqlx, no decoding, no RPC: what is left is SQLite inserting the rows. A writer thread that spends
this long per log bounds the backfill at 1 / (that time) logs per second, whatever the indexer does around it.

Usage: sqlite_floor.py DB [ROUNDS]
"""

import os
import sqlite3
import sys
import tempfile
import time


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    src = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    schema = [
        r[0]
        for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '_sqlx%' ORDER BY type = 'index', rowid"
        )
    ]
    tables = ["events", "event_accounts", "models", "model_versions", "licenses", "operators", "jobs", "disputes",
              "balances", "params", "blocks"]
    data = {t: src.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    events = len(data["events"])
    if events == 0:
        sys.exit("the database holds no events")
    print(f"{events} logs; rows: " + ", ".join(f"{t} {len(r)}" for t, r in data.items() if r))
    best = None
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as d:
            db = sqlite3.connect(os.path.join(d, "floor.db"), isolation_level=None)
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            for sql in schema:
                db.execute(sql)
            steps = max(1, events // 9000)
            before, wall = os.times(), time.time()
            for i in range(steps):
                db.execute("BEGIN")
                for t, rows in data.items():
                    part = rows[i * len(rows) // steps:(i + 1) * len(rows) // steps]
                    if part:
                        db.executemany(f"INSERT INTO {t} VALUES ({','.join('?' * len(part[0]))})", part)
                db.execute("COMMIT")
            after = os.times()
            cpu = (after.user - before.user) + (after.system - before.system)
            size = os.path.getsize(os.path.join(d, "floor.db")) + os.path.getsize(os.path.join(d, "floor.db-wal"))
            db.close()
        print(f"  round: {cpu:.2f} s CPU, {time.time() - wall:.2f} s wall, {size >> 20} MiB written")
        best = cpu if best is None else min(best, cpu)
    per_log = best / events * 1e6
    print(f"floor: {per_log:.1f} us of CPU per log (best of {rounds}): at most {1e6 / per_log:,.0f} logs/s "
          "for a writer thread doing nothing else")


if __name__ == "__main__":
    main()
