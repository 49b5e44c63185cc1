"""Night-talk sessions: record one, read one with its heard cases and decisions, list them."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.http import Blueprint, command, db
from shared.pagination import paginate

from ..domain import sessions as session_rules
from ..models import NightTalkSession
from ..schemas import SessionCreateSchema, SessionListArgs, SessionPage, SessionSchema
from .common import HANDLERS, STAFF

sessions = Blueprint("sessions", __name__, url_prefix="/sessions",
                     description="Night-talk sessions (府西夜话) and what they decided")


@sessions.route("")
class SessionsResource(MethodView):
    @sessions.roles(*HANDLERS)
    @sessions.arguments(SessionCreateSchema)
    @command
    @sessions.response(201, SessionSchema)
    @sessions.problems(409)
    def post(self, data):
        """Record a session: ``held_on`` (Asia/Shanghai day), estate, attendees (a count), the cases heard
        (``case_ids`` or natural ``case_refs``; same estate). Heard open cases move to in_mediation and link
        back to the session. Publishes ``disputes.session.held.v1``. 409: ``ref`` used; 422: bad case."""
        db_ = db()
        return session_rules.view(db_, session_rules.record(db_, data, current_principal().sub))

    @sessions.roles(*STAFF)
    @sessions.arguments(SessionListArgs, location="query")
    @sessions.response(200, SessionPage)
    def get(self, args):
        """Sessions in the order they were recorded, optionally of one estate or ``ref``. Cursor-paginated."""
        stmt = select(NightTalkSession)
        if args.get("estate"):
            stmt = stmt.where(NightTalkSession.estate == args["estate"])
        if args.get("ref"):
            stmt = stmt.where(NightTalkSession.ref == args["ref"])
        return paginate(db(), stmt, NightTalkSession.created_at, NightTalkSession.id, args)


@sessions.route("/<session_id>")
class SessionResource(MethodView):
    @sessions.roles(*STAFF)
    @sessions.response(200, SessionSchema)
    @sessions.problems(404)
    def get(self, session_id):
        """One session with the cases it heard and the decision for each (text, responsible party, due day)."""
        return session_rules.view(db(), session_rules.get(db(), session_id))
