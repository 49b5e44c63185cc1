"""Bad input is 422 naming the field and stores nothing: ID-card numbers by their GB 11643 check digit, money
that is negative, malformed or has more than two decimals (never rounded), unknown fields at every level."""
from __future__ import annotations

import pytest

from shared.testing import make_client

from services.relief.domain.personal import IdVault, check_id_number, mask_id_number, mask_name, mask_phone

from .helpers import API, CLERK, apply, campaign, donate, id_number


@pytest.mark.parametrize("number", [
    "140821198101088294",   # wrong check digit (the seed's 140821198101088295 is right)
    "14082119810108829",    # 17 characters
    "1408211981010882955",  # 19 characters
    "14082119810108829Y",   # check character not a digit or X
    "140821198113088291",   # month 13 (check digit made to fit the rest)
    "14088119940828534x0",
])
def test_invalid_id_numbers_are_refused(number):
    with pytest.raises(ValueError):
        check_id_number(number)


def test_valid_id_numbers_from_the_seed_and_lower_case_x():
    assert check_id_number("140821198101088295") == "140821198101088295"
    assert check_id_number("14088119940828534x") == "14088119940828534X"
    first17 = "14082119811308829"
    from services.relief.domain.personal import check_digit
    with pytest.raises(ValueError, match="birth date"):
        check_id_number(first17 + check_digit(first17))


def test_masks():
    assert mask_name("张三") == "张*" and mask_name("黎桂强") == "黎**"
    assert mask_id_number("14088119940828534X") == "1408**********534X"
    assert mask_phone("15817269286") == "158****9286"


def test_vault_encrypts_with_rotation_and_digests_with_its_key():
    from cryptography.fernet import Fernet
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = IdVault([old], "k1").encrypt("140821198101088295")
    assert "140821198101088295" not in token
    assert IdVault([new, old], "k1").decrypt(token) == "140821198101088295"
    assert IdVault([old], "k1").digest("x") == IdVault([new], "k1").digest("x") != IdVault([old], "k2").digest("x")


def _count(client, campaign_id, what):
    r = client.get(f"{API}/campaigns/{campaign_id}/{what}", headers=CLERK)
    return len(r.get_json()["items"])


@pytest.mark.parametrize("amount, field", [
    ("-5.00", "amount"), ("0.00", "amount"), ("1.005", "amount"), ("12.345", "amount"), ("abc", "amount"),
    ("1e3", "amount"), ("", "amount"), (12.5, "amount"), (100, "amount"), (None, "amount"), (True, "amount"),
    ("9999999999999999.00", "amount"),
])
def test_bad_donation_amounts_are_422_and_nothing_is_stored(db_url, amount, field):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    r = client.post(f"{API}/campaigns/{cid}/donations", headers=CLERK, json={
        "receipt_no": "R-1", "level": "city", "amount": amount, "received_at": "2023-03-01T10:00:00+08:00",
        "donor": {"kind": "individual", "name": "何玲万"}})
    assert r.status_code == 422, r.get_json()
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert field in {e["field"] for e in r.get_json()["errors"]}
    assert _count(client, cid, "donations") == 0
    donate(client, cid, "0.01", level="city", receipt="R-1")  # the smallest real gift is fine, and exact
    assert client.get(f"{API}/campaigns/{cid}/totals", headers=CLERK).get_json()["city"] == "0.01"


def test_bad_applications_are_422_naming_the_field(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    good = {"applicant": {"name": "钟明", "id_number": id_number(), "phone": "15817269286"}, "county": "临猗县",
            "level": "county", "assistance_type": "disaster", "household": {"size": 6, "monthly_income": "694.00"},
            "requested_amount": "100.00"}
    cases = [
        ({"applicant": {**good["applicant"], "id_number": "140821198101088294"}}, "applicant.id_number"),
        ({"applicant": {**good["applicant"], "nickname": "x"}}, "applicant.nickname"),
        ({"applicant": {**good["applicant"], "name": "  "}}, "applicant.name"),
        ({"applicant": {**good["applicant"], "phone": "call me"}}, "applicant.phone"),
        ({"requested_amount": "100.001"}, "requested_amount"),
        ({"requested_amount": "-1.00"}, "requested_amount"),
        ({"requested_amount": 100.0}, "requested_amount"),
        ({"household": {"size": 6, "monthly_income": "694.5.0"}}, "household.monthly_income"),
        ({"household": {"size": 0, "monthly_income": "694.00"}}, "household.size"),
        ({"assistance_type": "lottery"}, "assistance_type"),
        ({"county": "x" * 41}, "county"),
        ({"county": "临猗\x00县"}, "county"),
        ({"extra": 1}, "extra"),
    ]
    for change, field in cases:
        r = client.post(f"{API}/campaigns/{cid}/applications", json={**good, **change}, headers=CLERK)
        assert r.status_code == 422, (change, r.get_json())
        assert field in {e["field"] for e in r.get_json()["errors"]}, (field, r.get_json())
    assert _count(client, cid, "applications") == 0
    apply(client, cid, number=good["applicant"]["id_number"])


def test_disbursement_and_grant_amounts_are_never_rounded(db_url):
    client = make_client("relief", db_url)
    cid = campaign(client)["id"]
    donate(client, cid, "1000.00")
    aid = apply(client, cid, requested="300.00")["id"]
    from .helpers import approve, step
    approve(client, aid)
    for amount in ("100.005", "-100.00", "1,00", "100.00 "):
        r = client.post(f"{API}/applications/{aid}/disbursement", json={"amount": amount}, headers=CLERK)
        assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "amount", r.get_json()
    step(client, aid, "disbursement", {"amount": "300.01"}, expect=422)  # more than granted
    assert step(client, aid, "disbursement", {"amount": "299.99"})["amount"] == "299.99"
