"""points: HTTP resources. Routes parse, call the domain, answer."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import NotFound
from shared.http import Blueprint, db
from shared.pagination import paginate

from .domain import ledger
from .models import Account, Transfer
from .schemas import AccountArgs, AccountSchema, EntryArgs, EntryPage

STAFF = ("clerk", "admin")

accounts = Blueprint("accounts", __name__, url_prefix="/accounts", description="Personal points accounts")


def _own_account(person_id: str) -> Account:
    """The account of ``person_id``; a resident may read only their own (another's answers 404)."""
    principal = current_principal()
    if not principal.has(*STAFF) and principal.sub != person_id:
        raise NotFound("No such account.")
    account = db().scalars(select(Account).where(Account.person_id == person_id)).first()
    if account is None:
        raise NotFound("No such account.")
    return account


def _entry(transfer: Transfer, account_id: str) -> dict:
    sign = 1 if transfer.credit_account_id == account_id else -1
    return {**{c: getattr(transfer, c) for c in ("id", "state", "kind", "rule_code", "rule_version", "category",
                                                  "cause_event_id", "note", "occurred_at", "created_at")},
            "points": sign * transfer.amount}


@accounts.route("/<person_id>")
class AccountResource(MethodView):
    @accounts.roles("resident", "volunteer", *STAFF)
    @accounts.arguments(AccountArgs, location="query")
    @accounts.response(200, AccountSchema)
    @accounts.problems(404)
    def get(self, args, person_id):
        """A person's points account: balance, available points and the 20 newest entries.

        ``balance`` and ``available`` are integers (points) read in constant time. With ``?as_of=`` the
        posted balance at that time is also given. A resident sees only their own account (404 otherwise).
        """
        account = _own_account(person_id)
        newest = db().scalars(ledger.entries_stmt(account.id)
                              .order_by(Transfer.occurred_at.desc(), Transfer.id.desc()).limit(20)).all()
        return {"account_id": account.id, "person_id": account.person_id, "kind": account.kind,
                "balance": account.balance, "available": account.available,
                "balance_as_of": (ledger.balance_as_of(db(), account.id, args["as_of"])
                                  if args.get("as_of") else None),
                "entries": [_entry(t, account.id) for t in newest]}


@accounts.route("/<person_id>/entries")
class EntriesResource(MethodView):
    @accounts.roles("resident", "volunteer", *STAFF)
    @accounts.arguments(EntryArgs, location="query")
    @accounts.response(200, EntryPage)
    @accounts.problems(404)
    def get(self, args, person_id):
        """The account's statement, oldest first, one page at a time (cursor; ``limit`` 1–200)."""
        account = _own_account(person_id)
        page = paginate(db(), ledger.entries_stmt(account.id), Transfer.occurred_at, Transfer.id, args)
        return {"items": [_entry(t, account.id) for t in page["items"]], "next_cursor": page["next_cursor"]}


BLUEPRINTS = [accounts]
