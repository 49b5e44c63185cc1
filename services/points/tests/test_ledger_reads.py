"""A balance and a statement page cost the same however long an account's history: each side of the ledger is
read through its own (account, occurred_at, id) index with a LIMIT, never by gathering and sorting every entry
of the account (the plan is checked, not a duration — figures are in docs/performance.md)."""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.points.domain import ledger
from shared.db import engine_for
from shared.testing import migrate


def test_newest_entries_and_statement_pages_use_the_indexes(pg_url):
    migrate("points", pg_url)
    engine = engine_for(pg_url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO accounts (id, kind, code, person_id, debits_must_not_exceed_credits, "
                       "debits_posted, credits_posted, debits_pending, credits_pending, created_at) VALUES "
                       "('iss', 'issuing', 'issuing', NULL, false, 0, 0, 0, 0, now()), "
                       "('acc', 'resident', NULL, 'P1', true, 0, 0, 0, 0, now())"))
        c.execute(text("INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, state, kind, "
                       "occurred_at, created_at) SELECT 't' || g, CASE WHEN g % 10 = 0 THEN 'acc' ELSE 'iss' END, "
                       "CASE WHEN g % 10 = 0 THEN 'iss' ELSE 'acc' END, 1, 'posted', 'credit', "
                       "now() - (g || ' seconds')::interval, now() FROM generate_series(1, 20000) g"))
        c.execute(text("ANALYZE transfers"))
    captured = []

    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def explain(conn, cursor, statement, parameters, context, executemany):
        if "transfers" in statement and statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))
        return statement, parameters

    with Session(engine) as session:
        newest = ledger.newest_entries(session, "acc")
    event.remove(engine, "before_cursor_execute", explain)
    assert len(newest) == 20
    assert [t.occurred_at for t in newest] == sorted((t.occurred_at for t in newest), reverse=True)
    statement, parameters = captured[-1]
    with engine.connect() as conn:
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "ix_transfers_debit_time" in plan and "ix_transfers_credit_time" in plan, plan
    assert "Bitmap" not in plan and "Seq Scan" not in plan, plan
