"""Why a row was rejected: stable codes written to every rejects file."""

from __future__ import annotations

from enum import StrEnum

from retain.contract.strict_json import MAX_JSON_DEPTH
from retain.contract.tables import ID_MAX_CHARS

__all__ = ["RejectReason"]


class RejectReason(StrEnum):
    MISSING_VALUE = "missing_value"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_DATE = "bad_date"
    BAD_NUMBER = "bad_number"
    BAD_INTEGER = "bad_integer"
    BAD_BOOLEAN = "bad_boolean"
    BAD_JSON = "bad_json"
    NOT_ALLOWED = "not_allowed"
    OUT_OF_RANGE = "out_of_range"
    BAD_FORMAT = "bad_format"
    TOO_LONG = "too_long"
    CONTROL_CHARACTER = "control_character"
    NEGATIVE_AMOUNT = "negative_amount"
    END_BEFORE_START = "end_before_start"
    SCORE_OUT_OF_SCALE = "score_out_of_scale"
    WRONG_FIELD_COUNT = "wrong_field_count"
    BAD_ENCODING = "bad_encoding"
    MISSING_CUSTOMER = "missing_customer"
    DUPLICATE_LINE = "duplicate_line"
    UNKNOWN_COLUMN = "unknown_column"

    @property
    def explanation(self) -> str:
        return _EXPLANATIONS[self]


_EXPLANATIONS = {
    RejectReason.MISSING_VALUE: "a required value is empty",
    # What the value should look like (ISO 8601, or the --date-format / --decimal given) is the message's detail.
    RejectReason.BAD_TIMESTAMP: "not a timestamp",
    RejectReason.BAD_DATE: "not a date",
    RejectReason.BAD_NUMBER: "not a finite number",
    RejectReason.BAD_INTEGER: "not a whole number",
    RejectReason.BAD_BOOLEAN: "not a boolean (true/false, 1/0, yes/no)",
    RejectReason.BAD_JSON: (
        f'not a JSON object such as {{"plan": "pro"}} (strict JSON: no NaN or Infinity, objects and arrays nested '
        f"at most {MAX_JSON_DEPTH} levels)"
    ),
    RejectReason.NOT_ALLOWED: "not one of the allowed values",
    RejectReason.OUT_OF_RANGE: "outside the allowed range",
    RejectReason.BAD_FORMAT: "does not have the expected format",
    RejectReason.TOO_LONG: f"longer than the column allows (ids have at most {ID_MAX_CHARS} characters)",
    RejectReason.CONTROL_CHARACTER: (
        "contains a control character the column cannot hold (ids: none at all, no NUL, tab or line break; "
        "other text: no NUL); remove it in the source"
    ),
    RejectReason.NEGATIVE_AMOUNT: "negative amount on an order that is not refunded",
    RejectReason.END_BEFORE_START: "the end is before the start",
    RejectReason.SCORE_OUT_OF_SCALE: "score outside its survey's scale (NPS 0–10, CSAT 1–5)",
    RejectReason.WRONG_FIELD_COUNT: "the line has a different number of fields than the header",
    RejectReason.BAD_ENCODING: (
        "not valid UTF-8 text (each bad byte is shown as \ufffd); save the file as UTF-8, e.g. "
        "`iconv -f latin1 -t utf-8 in.csv > out.csv`, and ingest it again"
    ),
    RejectReason.MISSING_CUSTOMER: "the line has no customer id",
    RejectReason.DUPLICATE_LINE: "exact duplicate of an earlier line; kept once",
    RejectReason.UNKNOWN_COLUMN: "not a column of the table",
}
