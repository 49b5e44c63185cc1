"""Pure domain rules: the grading rule, deadlines in Asia/Shanghai days, the lifecycle table, masking, policy."""
from __future__ import annotations

from datetime import datetime, timezone
from itertools import product

import pytest

from services.disputes.domain import lifecycle
from services.disputes.domain.masking import mask_name, mask_phone, mask_text
from services.disputes.domain.policy import Policy, load, suggest_grade
from shared.errors import Conflict
from shared.timeutil import SHANGHAI


def test_grading_rule_over_every_factor_combination():
    for scale, difficulty, impact in product((1, 2, 3), repeat=3):
        total = scale + difficulty + impact
        expected = "red" if total >= 7 or impact == 3 else "blue" if total == 3 else "yellow"
        assert suggest_grade(scale, difficulty, impact) == expected
    assert suggest_grade(1, 2, 1) == "yellow"  # the event catalogue's example
    assert suggest_grade(1, 1, 3) == "red"
    with pytest.raises(ValueError):
        suggest_grade(0, 1, 1)


def test_deadline_is_end_of_shanghai_day_n_days_after_grading():
    policy = Policy()
    # 2023-11-09 20:30 UTC is already 2023-11-10 04:30 in Shanghai: the grading day is the 10th
    graded = datetime(2023, 11, 9, 20, 30, tzinfo=timezone.utc)
    assert policy.deadline("yellow", graded) == datetime(2023, 11, 25, 23, 59, 59, tzinfo=SHANGHAI)
    assert policy.deadline("red", graded) == datetime(2023, 11, 17, 23, 59, 59, tzinfo=SHANGHAI)
    assert policy.deadline("blue", graded) == datetime(2023, 12, 10, 23, 59, 59, tzinfo=SHANGHAI)
    custom = load({"deadline_days": {"red": 1}})
    assert custom.deadline("red", graded) == datetime(2023, 11, 11, 23, 59, 59, tzinfo=SHANGHAI)


def test_lifecycle_table_allows_exactly_its_entries():
    allowed = {(a, s) for a, row in lifecycle.TRANSITIONS.items() for s in row}
    for action in lifecycle.TRANSITIONS:
        for status in lifecycle.STATUSES:
            if (action, status) in allowed:
                assert lifecycle.next_status(action, status) in lifecycle.STATUSES
            else:
                with pytest.raises(Conflict) as err:
                    lifecycle.next_status(action, status)
                assert err.value.status == 409
    # the path and its branches
    path = [("grade", "received", "graded"), ("assign", "graded", "assigned"),
            ("start_mediation", "assigned", "in_mediation"), ("resolve", "in_mediation", "resolved"),
            ("reopen", "resolved", "reopened"), ("resolve", "reopened", "resolved"),
            ("refer", "in_mediation", "referred"), ("close", "assigned", "closed")]
    for action, before, after in path:
        assert lifecycle.next_status(action, before) == after
    for ended in ("referred", "closed"):
        assert not any(ended in row for row in lifecycle.TRANSITIONS.values())
    assert "received" not in lifecycle.TRANSITIONS["assign"]


def test_masking_names_phones_and_free_text():
    assert mask_name("张三") == "张*"
    assert mask_name("王刚娜") == "王**"
    assert mask_phone("13812341234") == "138****1234"
    text = "请联系王刚娜，电话13812341234或0591-82591514，座机81372252，身份证号码140802199001011234，2020年20200903日"
    masked = mask_text(text, ["王刚娜"])
    assert "王**" in masked and "王刚娜" not in masked
    assert "138****1234" in masked and "13812341234" not in masked
    assert "0591-****1514" in masked and "****2252" in masked
    assert "1408021990" not in masked and masked.count("1234") == 2
    assert "20200903" in masked  # a date is not a phone number


def test_policy_channels_are_configurable():
    policy = load({"extra_channels": ["city_hall_kiosk"], "extra_subcategories": [("external", "utility_company")],
                   "reopen_threshold": 3})
    assert "city_hall_kiosk" in policy.channels and "weibo" in policy.channels
    assert "utility_company" in policy.categories["external"]
    assert policy.reopen_threshold == 3
