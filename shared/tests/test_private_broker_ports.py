"""Regression (found by the chaos run, issue 10): a test's private RabbitMQ node must never be mistaken for
another's. Ports used to be "the first free one from 5673": while one run's broker was down for a restart, a
second run's broker took its port, the first run's restart saw "a broker answers" and its processes talked to the
other run's node (another run's credits turned up in this run's database). Ports are now random, a (re)start
refuses a port someone else holds, and the node answering must be this one by name."""
from __future__ import annotations

import socket

import pytest

from shared.testing import AMQP_HOST, AMQP_PORT, broker_node_at, private_broker


def test_private_brokers_take_random_ports_outside_the_ephemeral_range(tmp_path):
    ports = set()
    for n in range(4):
        broker = private_broker(tmp_path / f"b{n}")
        env = broker.environment()
        assert env["RABBITMQ_NODE_PORT"] == str(broker.port) and 20000 <= broker.port < 32000
        assert env["RABBITMQ_DIST_PORT"] != env["RABBITMQ_NODE_PORT"]
        assert broker.environment() is env  # kept across restarts
        ports.add(broker.port)
    assert len(ports) > 1


def test_a_start_refuses_a_port_another_process_holds(tmp_path):
    broker = private_broker(tmp_path / "b")
    broker.environment()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", broker.port))
        squatter.listen()
        with pytest.raises(RuntimeError, match="taken by another process"):
            broker.start(timeout=5)
    assert broker.proc is None  # no node was started on a port it could not have


@pytest.mark.integration
def test_the_answering_node_is_known_by_name():
    name = broker_node_at(f"amqp://guest:guest@{AMQP_HOST}:{AMQP_PORT}/%2F")
    assert name and "@" in name
    assert broker_node_at("amqp://guest:guest@127.0.0.1:1/%2F") is None
