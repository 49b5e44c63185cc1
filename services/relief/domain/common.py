"""Small helpers the relief rules share: a state transition by one conditional UPDATE."""
from __future__ import annotations

from sqlalchemy import inspect, update
from sqlalchemy.orm import Session

from shared.errors import Conflict


def transition(session: Session, obj, from_states: tuple[str, ...], to_state: str, message: str, **values) -> None:
    """Move ``obj`` from one of ``from_states`` to ``to_state`` with ONE conditional UPDATE.

    Two concurrent requests can never both make the same move (so an event tied to the move is published
    once); the loser gets 409 ``invalid-transition`` with ``message``. ``values`` are set in the same UPDATE.

    Afterwards the changed columns and the object's relationships read the stored state again when next used
    (expired, not refreshed: a refresh re-read the whole row and every relationship at once, four queries per
    step of which the next step used one or none).
    """
    model = type(obj)
    result = session.execute(update(model).where(model.id == obj.id, model.status.in_(from_states))
                             .values(status=to_state, **values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(message, code="invalid-transition")
    session.expire(obj, ["status", *values, *inspect(model).relationships.keys()])
