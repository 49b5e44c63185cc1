"""The chaos run, short (issue 10; ``make chaos`` runs 10,000 events with the same code, bench/chaos.py).

A few hundred events across the flows that end in points credits — cases resolved and hazard reports verified in
disputes, volunteer shifts checked out in relief — a third through the HTTP API of real gunicorn processes, the
rest staged in the outboxes, while a private RabbitMQ node of this test is restarted twice, the points worker is
SIGKILLed three times and the disputes relay once, this test's own PostgreSQL databases refuse connections for a
few seconds, and poison messages are published on purpose. In the end: every expected credit exactly once (by
cause key) and no other, empty outboxes, only the poison in the dead-letter queues, and while the databases
were away every HTTP answer was a success or a 503 problem+json — never a 500, a reset or a hang.
"""
from __future__ import annotations

import os

import pytest

from bench import chaos
from shared.testing import have_rabbitmq_server, pg_enabled

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = int(os.environ.get("CHAOS_TEST_EVENTS", "300"))


@pytest.mark.skipif(not have_rabbitmq_server(), reason="rabbitmq-server is not installed on this machine")
def test_chaos_run_credits_exactly_once_and_answers_503_while_the_database_is_away(tmp_path):
    if not pg_enabled():
        pytest.skip("PostgreSQL disabled (the outage is made on PostgreSQL databases of the test)")
    report = chaos.run(EVENTS, http_share=0.35, staging_seconds=40, workdir=tmp_path, outage_seconds=4)
    print(report.summary())
    assert len(report.expected) == EVENTS
    assert not report.missing() and not report.doubled() and not report.unexpected() and not report.other_credits
    assert not report.wrong_points()
    assert report.pending_outbox == {"disputes": 0, "points": 0, "relief": 0}
    assert sorted(i for ids in report.dead.values() for i in ids) == sorted(report.poison_ids)
    assert len(report.poison_ids) == 3
    assert report.outage is not None and report.outage_answers
    assert not report.outage_bad(), report.outage_bad()[:5]
    assert {a.service for a in report.outage_answers if a.status == 503} == set(chaos.SERVICES)
    assert not report.answers_500 and not report.transport_errors
    assert [what for _, what in report.faults if "SIGKILL" in what].count("disputes worker (relay) SIGKILL") == 1
    assert sum("points worker SIGKILL" in what for _, what in report.faults) == 3
    assert sum("broker restart" in what for _, what in report.faults) == 2
    assert report.problems() == []
