"""What the points resources share: roles, the caller's merchant, and how records are shown."""
from __future__ import annotations

from sqlalchemy import select

from shared.auth import current_principal
from shared.errors import NotFound
from shared.http import db

from ..domain import ledger
from ..domain.merchants import get_merchant, merchant_of
from ..models import Account, Merchant, Transfer

STAFF = ("clerk", "admin")
HOLDERS = ("resident", "volunteer")


def is_staff() -> bool:
    return current_principal().has(*STAFF)


def own_merchant() -> Merchant | None:
    """The shop the caller acts for when they are not staff and hold the merchant role (else None)."""
    principal = current_principal()
    if principal.has(*STAFF) or not principal.has("merchant"):
        return None
    return merchant_of(db(), principal.sub)


def visible_merchant(ref: str) -> Merchant:
    """Merchant ``ref``; a merchant's token sees only its own shop (another's answers 404)."""
    merchant = get_merchant(db(), ref)
    if not is_staff():
        mine = own_merchant()
        if mine is None or mine.id != merchant.id:
            raise NotFound("No such merchant.")
    return merchant


def own_person_account(person_id: str) -> Account:
    """The account of ``person_id``; a non-staff caller may read only their own (another's answers 404)."""
    principal = current_principal()
    if not principal.has(*STAFF) and principal.sub != person_id:
        raise NotFound("No such account.")
    account = ledger.resident_account(db(), person_id, create=False)
    if account is None:
        raise NotFound("No such account.")
    return account


def merchant_refs(ids) -> dict[str, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db().execute(select(Merchant.id, Merchant.ref).where(Merchant.id.in_(ids))).all())


def entry(transfer: Transfer, account_id: str, balance_after: int | None = None) -> dict:
    sign = 1 if transfer.credit_account_id == account_id else -1
    return {**{c: getattr(transfer, c) for c in ("id", "state", "kind", "rule_code", "rule_version", "category",
                                                  "cause_event_id", "redemption_id", "note", "occurred_at",
                                                  "created_at")},
            "points": sign * transfer.amount, "balance_after": balance_after}


def account_view(account: Account, *, entries: list | None = None, balance_as_of: int | None = None) -> dict:
    ref = merchant_refs([account.merchant_id]).get(account.merchant_id)
    return {"account_id": account.id, "person_id": account.person_id, "merchant_ref": ref, "code": account.code,
            "kind": account.kind, "balance": account.balance, "available": account.available,
            "reserved": account.debits_pending, "balance_as_of": balance_as_of, "entries": entries or []}


def statement_page(account: Account, page: dict) -> dict:
    """A statement page with each entry's running posted balance (``balance_after``)."""
    items = page["items"]
    out = []
    if items:
        running = ledger.balance_before(db(), account.id, items[0].occurred_at, items[0].id)
        for transfer in items:
            running += ledger.signed_posted(transfer, account.id)
            out.append(entry(transfer, account.id, running))
    return {"items": out, "next_cursor": page["next_cursor"]}
