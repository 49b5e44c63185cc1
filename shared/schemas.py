"""Strict marshmallow types: what marshmallow lets through by default, these refuse (PITFALLS.md).

- ``Schema``: unknown fields raise at every nesting level (every schema of ours derives from this one).
- ``Integer``: only JSON integers (no floats, no booleans), bounded to the column's range (int32 by default).
- ``Boolean``: only ``true`` / ``false``.
- ``String``: no NUL characters, a maximum length that matches the column, and required text must not be blank.
- ``Money``: yuan as a decimal string with at most two decimals (never rounded), stored as ``Decimal``.
- ``Hours``: a decimal string of hours with at most two decimals.
- ``AwareDateTime``: ISO 8601 with an offset; answers are given in Asia/Shanghai time.
- ``Limit`` / cursor arguments for pagination live in ``shared.pagination``.
"""
from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from marshmallow import RAISE, Schema as _Schema, ValidationError, fields, validate, validates_schema

from .timeutil import SHANGHAI

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class Schema(_Schema):
    """Base schema: unknown fields are refused (422 naming the field), at every level."""

    class Meta:
        unknown = RAISE
        ordered = True


class Integer(fields.Integer):
    """A JSON integer within [minimum, maximum] (the column's range; int32 unless told)."""

    default_error_messages = {
        "invalid": "Not a valid integer.",
        "range": "Must be between {min} and {max}.",
    }

    def __init__(self, *, minimum: int = INT32_MIN, maximum: int = INT32_MAX, **kwargs):
        kwargs.setdefault("strict", True)
        super().__init__(**kwargs)
        self.minimum, self.maximum = minimum, maximum
        self.metadata.setdefault("minimum", minimum)
        self.metadata.setdefault("maximum", maximum)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        if not (self.minimum <= value <= self.maximum):
            raise self.make_error("range", min=self.minimum, max=self.maximum)
        return value


class QueryInteger(Integer):
    """An integer given in a query string (``?limit=20``): decimal digits only, bounded like :class:`Integer`."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and re.fullmatch(r"-?\d{1,20}", value.strip()):
            value = int(value.strip())
        return super()._deserialize(value, attr, data, **kwargs)


class QueryBoolean(fields.Boolean):
    """A boolean given in a query string: ``true`` or ``false`` only."""

    truthy = {"true"}
    falsy = {"false"}


class Boolean(fields.Boolean):
    """Only JSON ``true`` or ``false`` (marshmallow would take 1, "yes", "on"...)."""

    truthy = {True}
    falsy = {False}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class String(fields.String):
    """Text without NUL characters, at most ``max_length`` characters (the column's length).

    A required string must not be empty or blank; ``strip=True`` (default) trims surrounding white space.
    """

    default_error_messages = {
        "blank": "Must not be blank.",
        "nul": "Must not contain NUL characters.",
        "too_long": "Longer than {max} characters.",
    }

    DEFAULT_MAX_LENGTH = 200

    def __init__(self, *, max_length: int | None = None, strip: bool = True, allow_blank: bool | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self._implicit_length = max_length is None and "maxLength" not in self.metadata
        self.max_length = self.DEFAULT_MAX_LENGTH if max_length is None else max_length
        self.strip = strip
        self.allow_blank = (not self.required) if allow_blank is None else allow_blank
        self.metadata.setdefault("maxLength", self.max_length)
        if not self.allow_blank:
            self.metadata.setdefault("minLength", 1)

    def _bind_to_schema(self, field_name, parent):
        super()._bind_to_schema(field_name, parent)
        # An answer-only field (dump_only, itself or through a List/Nested around it) is never loaded, so the
        # default input bound is not a property of what it carries (a stored text may be longer): documenting
        # it would make the OpenAPI document promise what the answers break. An explicit max_length stays.
        if self._implicit_length and _answer_only(self):
            self.metadata.pop("maxLength", None)
            if self.metadata.get("minLength") == 1:
                self.metadata.pop("minLength")

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise self.make_error("nul")
        if self.strip:
            value = value.strip()
        if not value and not self.allow_blank:
            raise self.make_error("blank")
        if len(value) > self.max_length:
            raise self.make_error("too_long", max=self.max_length)
        return value


def _answer_only(field) -> bool:
    """Whether ``field`` only ever dumps: it, or a field or schema around it, is ``dump_only``."""
    node = field
    while isinstance(node, fields.Field):
        if node.dump_only:
            return True
        parent = node.parent
        if isinstance(parent, _Schema) and node.name in getattr(parent, "dump_only", ()):
            return True
        node = parent
    return False


class Enum(String):
    """One of a fixed set of identifiers (the glossary's)."""

    def __init__(self, choices, **kwargs):
        kwargs.setdefault("max_length", max(len(c) for c in choices))
        kwargs.setdefault("validate", validate.OneOf(list(choices)))
        super().__init__(**kwargs)
        self.metadata.setdefault("enum", list(choices))


_DECIMAL_RE = re.compile(r"^-?\d{1,16}(\.\d{1,2})?$")


class Decimal2(fields.Field):
    """An exact decimal carried as a JSON string with at most two decimals (``"753500.00"``).

    Never rounds: ``"1.005"`` is refused, not turned into ``1.00`` or ``1.01``. Numbers (floats) are refused
    too, since a float has already lost exactness. Dumped as a string with exactly two decimals.
    """

    default_error_messages = {
        "invalid": "Must be a decimal string with at most two decimals, e.g. \"12.50\".",
        "range": "Must be between {min} and {max}.",
    }

    def __init__(self, *, minimum: Decimal | str | None = "0.00", maximum: Decimal | str = "999999999999.99",
                 exclusive_minimum: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.minimum = Decimal(minimum) if minimum is not None else None
        self.maximum = Decimal(maximum)
        self.exclusive_minimum = exclusive_minimum
        self.metadata.setdefault("type", "string")
        self.metadata.setdefault("pattern", r"^-?\d{1,16}(\.\d{1,2})?$")
        self.metadata.setdefault("example", "12.50")

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return str(Decimal(value).quantize(Decimal("0.01")))

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not _DECIMAL_RE.match(value):
            raise self.make_error("invalid")
        try:
            number = Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - the regex already refuses these
            raise self.make_error("invalid") from exc
        low_ok = self.minimum is None or (number > self.minimum if self.exclusive_minimum else number >= self.minimum)
        if not low_ok or number > self.maximum:
            raise self.make_error("range", min=self.minimum, max=self.maximum)
        return number.quantize(Decimal("0.01"))


class Money(Decimal2):
    """Yuan as a decimal string (GLOSSARY.md: ``"753500.00"``), exact, never negative unless told."""


class Hours(Decimal2):
    """Hours as a decimal string with at most two decimals (``"2.5"``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("maximum", "24.00")
        super().__init__(**kwargs)


#: The calendar the services compute with: a time or day outside it is refused (422). Before 1901 the
#: Asia/Shanghai zone has a local-mean-time offset (+08:05:43) that RFC 3339 cannot write; near year 9999 a day's
#: arithmetic (deadlines, +08:00) overflows. Births and old records still fit.
EARLIEST_DAY, LATEST_DAY = date(1901, 1, 1), date(2999, 12, 31)


class AwareDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset. Naive values are refused; answers carry +08:00 (Asia/Shanghai).

    Years 1901-2999 only (``EARLIEST_DAY``..``LATEST_DAY``).
    """

    default_error_messages = {"invalid_awareness": "Must include a UTC offset, e.g. 2024-06-14T21:30:18+08:00.",
                              "out_of_range": "Must be between 1901-01-01 and 2999-12-31."}

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:  # stored UTC without zone (SQLite)
            from datetime import timezone
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(SHANGHAI).isoformat()

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type="datetime")
        result = super()._deserialize(value, attr, data, **kwargs)
        try:
            day = result.astimezone(SHANGHAI).date()
        except (OverflowError, ValueError) as exc:
            raise self.make_error("out_of_range") from exc
        if not (EARLIEST_DAY <= day <= LATEST_DAY):
            raise self.make_error("out_of_range")
        return result


class Date(fields.Date):
    """An ISO 8601 day (``2024-06-14``), years 1901-2999 (as :class:`AwareDateTime`)."""

    default_error_messages = {"out_of_range": "Must be between 1901-01-01 and 2999-12-31."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type="date")
        result = super()._deserialize(value, attr, data, **kwargs)
        if not (EARLIEST_DAY <= result <= LATEST_DAY):
            raise self.make_error("out_of_range")
        return result


_MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def valid_month(value: str) -> bool:
    """Whether ``value`` is a month ``YYYY-MM`` of the calendar the services compute with (1901-01..2999-12)."""
    match = _MONTH_RE.match(value) if isinstance(value, str) else None
    return bool(match) and EARLIEST_DAY.year <= int(match[1]) <= LATEST_DAY.year


class Month(String):
    """A calendar month ``YYYY-MM`` (Asia/Shanghai), years 1901-2999 like :class:`Date` (``0000-01`` would
    name a year that Python's dates cannot hold)."""

    default_error_messages = {"month": "Must be a month YYYY-MM between 1901-01 and 2999-12."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 7)
        super().__init__(**kwargs)
        self.metadata.setdefault("pattern", _MONTH_RE.pattern)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not valid_month(value):
            raise self.make_error("month")
        return value


Nested = fields.Nested


class List(fields.List):
    """A list with a bounded length (``max_items``; 1,000 unless told)."""

    def __init__(self, cls_or_instance, *, max_items: int = 1000, min_items: int = 0, **kwargs):
        kwargs.setdefault("validate", validate.Length(min=min_items, max=max_items))
        super().__init__(cls_or_instance, **kwargs)


def reject_non_finite(value):
    """Used by the JSON provider: ``NaN``/``Infinity`` are not JSON (RFC 8259) and are refused."""
    raise ValueError(f"{value} is not a valid JSON number")


__all__ = [
    "Schema", "Integer", "QueryInteger", "Month", "valid_month", "QueryBoolean", "Boolean", "String", "Enum", "Money", "Hours", "Decimal2", "AwareDateTime", "Date",
    "Nested", "List", "ValidationError", "validates_schema", "fields", "validate", "math",
]
