"""Accounts: personal, merchant and the community's own, with statements (cursor pages, running balance)."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from shared.http import Blueprint, db
from shared.pagination import PageArgs, paginate

from ..domain import ledger
from ..models import Account, Transfer
from ..schemas import AccountArgs, AccountListArgs, AccountPage, AccountSchema, EntryPage
from .common import HOLDERS, STAFF, account_view, entry, own_person_account, statement_page

accounts = Blueprint("accounts", __name__, url_prefix="/accounts", description="Points accounts and statements")


def _account_answer(account: Account, args: dict) -> dict:
    newest = ledger.newest_entries(db(), account.id)
    as_of = ledger.balance_as_of(db(), account.id, args["as_of"]) if args.get("as_of") else None
    return account_view(account, entries=[entry(t, account.id) for t in newest], balance_as_of=as_of)


@accounts.route("")
class AccountsResource(MethodView):
    @accounts.roles(*STAFF)
    @accounts.arguments(AccountListArgs, location="query")
    @accounts.response(200, AccountPage)
    def get(self, args):
        """Every account (residents, merchants, the issuing and supermarket accounts), oldest first; ``kind``
        filters. Balances are integers (points); the issuing account's is negative (points in circulation)."""
        stmt = select(Account).where(Account.kind == args["kind"]) if args.get("kind") else select(Account)
        page = paginate(db(), stmt, Account.created_at, Account.id, args)
        return {"items": [account_view(a) for a in page["items"]], "next_cursor": page["next_cursor"]}


@accounts.route("/<person_id>")
class AccountResource(MethodView):
    @accounts.roles(*HOLDERS, "merchant", *STAFF)
    @accounts.arguments(AccountArgs, location="query")
    @accounts.response(200, AccountSchema)
    @accounts.problems(404)
    def get(self, args, person_id):
        """A person's points account: balance, available points and the 20 newest entries.

        ``balance`` (posted), ``available`` (less reserved redemptions) and ``reserved`` are integers (points)
        read in constant time. With ``?as_of=`` the posted balance at that time is also given. A resident sees
        only their own account (404 otherwise).
        """
        return _account_answer(own_person_account(person_id), args)


@accounts.route("/<person_id>/entries")
class EntriesResource(MethodView):
    @accounts.roles(*HOLDERS, "merchant", *STAFF)
    @accounts.arguments(PageArgs, location="query")
    @accounts.response(200, EntryPage)
    @accounts.problems(404)
    def get(self, args, person_id):
        """The account's statement, oldest first, one page at a time (cursor; ``limit`` 1–200), each entry with
        its signed ``points`` and the posted ``balance_after`` it. Pending reservations show with 0 effect
        until posted."""
        account = own_person_account(person_id)
        return statement_page(account, paginate(db(), ledger.entries_stmt(account.id), Transfer.occurred_at,
                                                Transfer.id, args))
