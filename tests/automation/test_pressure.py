"""Pressure rules: hand-written schedules with the exact decisions, then properties over random schedules.

Offsets used below (IANA database): Europe/Berlin CET +1 / CEST +2, clocks 02:00 → 03:00 on 2024-03-31 at 01:00 UTC
and 03:00 → 02:00 on 2024-10-27 at 01:00 UTC; America/New_York EST −5 / EDT −4, 02:00 → 03:00 on 2024-03-10 at
07:00 UTC and 02:00 → 01:00 on 2024-11-03 at 06:00 UTC; Asia/Kolkata +05:30 all year.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retain.automation.actions_spec import ActionKind
from retain.automation.pressure import (
    ALLOWED_DESPITE,
    CUSTOMER_FACING,
    Candidate,
    Decision,
    PressureSettings,
    SuppressionReason,
    decide,
)
from retain.automation.quiet_hours import is_quiet, load_zone
from retain.errors import InputError

R = SuppressionReason
NO_QUIET = {"quiet_start": time(0), "quiet_end": time(0)}  # start == end: no quiet hours
T = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)  # a Friday noon, far from any DST change


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def cand(playbook="wake_up", customer="c1", kind="email", due=T, *, priority=5, step=0, key="k", address=True):
    return Candidate(playbook, priority, customer, key, step, kind, due, address)


def run(candidates, *, sent=(), suppression=None, zones=None, **setting) -> list[Decision]:
    return decide(
        candidates,
        sent=list(sent),
        suppression_list=suppression or {},
        timezones=zones or {},
        settings=PressureSettings(**setting),
    )


def outcome(decisions: list[Decision]) -> list[tuple]:
    """(playbook, customer, step, send_at, reason) per decision, in output order."""
    return [
        (d.candidate.playbook, d.candidate.customer_id, d.candidate.step, d.send_at, d.suppressed) for d in decisions
    ]


# --- kinds --------------------------------------------------------------------------------------------------------


def test_customer_facing_kinds_are_the_six_that_reach_the_customer():
    assert {kind.value for kind in CUSTOMER_FACING} == {"email", "webhook", "file", "offer", "survey", "coupon"}
    assert {kind.value for kind in ActionKind} - {kind.value for kind in CUSTOMER_FACING} == {"task", "tag", "points"}


# --- quiet hours --------------------------------------------------------------------------------------------------


def send_at(due: datetime, zone: str | None, start: time = time(21), end: time = time(8)) -> datetime | None:
    [decision] = run([cand(due=due)], zones={"c1": zone}, quiet_start=start, quiet_end=end)
    assert decision.suppressed is None
    return decision.send_at


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (utc(2024, 5, 1, 20, 59), utc(2024, 5, 1, 20, 59)),  # just before the quiet hours
        (utc(2024, 5, 1, 21, 0), utc(2024, 5, 2, 8, 0)),  # the start is quiet
        (utc(2024, 5, 1, 23, 59), utc(2024, 5, 2, 8, 0)),  # before midnight → next morning
        (utc(2024, 5, 2, 0, 0), utc(2024, 5, 2, 8, 0)),  # after midnight → this morning
        (datetime(2024, 5, 2, 7, 59, 59, tzinfo=UTC), utc(2024, 5, 2, 8, 0)),
        (utc(2024, 5, 2, 8, 0), utc(2024, 5, 2, 8, 0)),  # the end is not quiet
    ],
)
def test_quiet_hours_crossing_midnight_in_utc(due, expected):
    assert send_at(due, "UTC") == expected


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (utc(2024, 5, 1, 11, 59), utc(2024, 5, 1, 11, 59)),
        (utc(2024, 5, 1, 12, 0), utc(2024, 5, 1, 14, 0)),
        (utc(2024, 5, 1, 13, 59), utc(2024, 5, 1, 14, 0)),
        (utc(2024, 5, 1, 14, 0), utc(2024, 5, 1, 14, 0)),
    ],
)
def test_quiet_hours_within_one_day(due, expected):
    assert send_at(due, "UTC", time(12), time(14)) == expected


def test_equal_start_and_end_means_no_quiet_hours():
    assert send_at(utc(2024, 5, 1, 3, 0), "UTC", time(8), time(8)) == utc(2024, 5, 1, 3, 0)


@pytest.mark.parametrize(
    ("zone", "due", "expected"),
    [
        # Berlin, spring forward: 22:30 CET Saturday → 08:00 CEST Sunday = 06:00 UTC (not 07:00, the CET reading)
        ("Europe/Berlin", utc(2024, 3, 30, 21, 30), utc(2024, 3, 31, 6, 0)),
        ("Europe/Berlin", utc(2024, 3, 31, 5, 30), utc(2024, 3, 31, 6, 0)),  # 07:30 CEST
        ("Europe/Berlin", utc(2024, 3, 31, 6, 0), utc(2024, 3, 31, 6, 0)),  # 08:00 CEST: not quiet
        # Berlin, fall back: 22:00 CEST Saturday → 08:00 CET Sunday = 07:00 UTC
        ("Europe/Berlin", utc(2024, 10, 26, 20, 0), utc(2024, 10, 27, 7, 0)),
        ("Europe/Berlin", utc(2024, 10, 27, 6, 30), utc(2024, 10, 27, 7, 0)),  # 07:30 CET (08:30 in CEST)
        # New York, spring forward: 00:00 EST → 08:00 EDT = 12:00 UTC
        ("America/New_York", utc(2024, 3, 10, 5, 0), utc(2024, 3, 10, 12, 0)),
        ("America/New_York", utc(2024, 3, 10, 1, 30), utc(2024, 3, 10, 1, 30)),  # 20:30 EST Saturday
        # New York, fall back: 01:00 EDT → 08:00 EST = 13:00 UTC
        ("America/New_York", utc(2024, 11, 3, 5, 0), utc(2024, 11, 3, 13, 0)),
        ("America/New_York", utc(2024, 11, 3, 12, 30), utc(2024, 11, 3, 13, 0)),  # 07:30 EST (08:30 in EDT)
        # Kolkata, +05:30
        ("Asia/Kolkata", utc(2024, 5, 1, 15, 0), utc(2024, 5, 1, 15, 0)),  # 20:30 IST
        ("Asia/Kolkata", utc(2024, 5, 1, 15, 30), utc(2024, 5, 2, 2, 30)),  # 21:00 IST → 08:00 IST
        ("Asia/Kolkata", utc(2024, 5, 2, 2, 29), utc(2024, 5, 2, 2, 30)),  # 07:59 IST
    ],
)
def test_quiet_hours_in_local_time_across_dst(zone, due, expected):
    assert send_at(due, zone) == expected


def test_quiet_end_skipped_by_spring_forward_goes_at_that_wall_time_in_the_old_offset():
    # Quiet 01:00–02:30; on 2024-03-31 Berlin's clocks jump 02:00 → 03:00, so 02:30 never happens:
    # 02:30 read with CET (+1) is 01:30 UTC = 03:30 CEST.
    assert send_at(utc(2024, 3, 31, 0, 30), "Europe/Berlin", time(1), time(2, 30)) == utc(2024, 3, 31, 1, 30)
    # New York on 2024-03-10: 02:30 read with EST (−5) is 07:30 UTC = 03:30 EDT.
    assert send_at(utc(2024, 3, 10, 6, 30), "America/New_York", time(1), time(2, 30)) == utc(2024, 3, 10, 7, 30)


def test_quiet_end_passed_twice_by_fall_back_takes_the_next_occurrence():
    # Quiet 01:00–02:30 in Berlin on 2024-10-27: 02:00–03:00 local happens twice (CEST, then CET).
    berlin = "Europe/Berlin", time(1), time(2, 30)
    assert send_at(utc(2024, 10, 27, 0, 10), *berlin) == utc(2024, 10, 27, 0, 30)  # 02:10 CEST → 02:30 CEST
    assert send_at(utc(2024, 10, 27, 0, 40), *berlin) == utc(2024, 10, 27, 0, 40)  # 02:40 CEST: not quiet
    assert send_at(utc(2024, 10, 27, 1, 0), *berlin) == utc(2024, 10, 27, 1, 30)  # 02:00 CET: quiet again
    assert send_at(utc(2024, 10, 27, 1, 10), *berlin) == utc(2024, 10, 27, 1, 30)  # 02:10 CET → 02:30 CET


@pytest.mark.parametrize("zone", [None, "", "Mars/Olympus_Mons", "../etc/passwd", "not a zone"])
def test_missing_or_unknown_zone_uses_the_default(zone):
    # Default Europe/Berlin: 20:30 UTC is 22:30 CEST → 08:00 CEST = 06:00 UTC.
    decisions = run([cand(due=utc(2024, 5, 1, 20, 30))], zones={"c1": zone}, default_timezone="Europe/Berlin")
    assert decisions[0].send_at == utc(2024, 5, 2, 6, 0)
    assert run([cand(due=utc(2024, 5, 1, 20, 30))], default_timezone="Europe/Berlin")[0].send_at == utc(2024, 5, 2, 6)


@pytest.mark.parametrize("kind", ["task", "tag", "points"])
def test_kinds_that_do_not_reach_the_customer_ignore_quiet_hours(kind):
    assert outcome(run([cand(kind=kind, due=utc(2024, 5, 1, 23, 0))])) == [
        ("wake_up", "c1", 0, utc(2024, 5, 1, 23, 0), None)
    ]


def test_send_at_is_a_utc_instant_even_for_a_due_time_given_in_another_offset():
    due = datetime(2024, 5, 1, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 12:00 UTC
    [decision] = run([cand(due=due)])
    assert decision.send_at == utc(2024, 5, 1, 12, 0) and decision.send_at.tzinfo is UTC


# --- suppression list and addresses -------------------------------------------------------------------------------

ALL_KINDS = [kind.value for kind in ActionKind]


def every_kind(customer: str) -> list[Candidate]:
    return [cand(customer=customer, kind=kind, step=step) for step, kind in enumerate(ALL_KINDS)]


def test_suppression_list_blocks_every_kind_but_task_and_erasure_blocks_all():
    candidates = [c for customer in ("bounced", "erased", "free", "unsub") for c in every_kind(customer)]
    suppression = {"unsub": R.UNSUBSCRIBED, "bounced": R.BOUNCED, "erased": R.ERASED}
    decisions = run(candidates, suppression=suppression, max_messages=9, **NO_QUIET)
    reasons = {(d.candidate.customer_id, d.candidate.channel_kind.value): d.suppressed for d in decisions}
    for kind in ALL_KINDS:
        assert reasons["free", kind] is None
        assert reasons["erased", kind] is R.ERASED
        assert reasons["unsub", kind] is (None if kind == "task" else R.UNSUBSCRIBED)
        assert reasons["bounced", kind] is (None if kind == "task" else R.BOUNCED)
    assert {reason: set(kinds) for reason, kinds in ALLOWED_DESPITE.items()} == {
        R.UNSUBSCRIBED: {ActionKind.TASK},
        R.BOUNCED: {ActionKind.TASK},
        R.ERASED: set(),
    }


def test_suppression_list_accepts_reasons_as_strings():
    assert run([cand()], suppression={"c1": "unsubscribed"})[0].suppressed is R.UNSUBSCRIBED


def test_email_without_address_is_suppressed_no_address_and_other_kinds_ignore_the_flag():
    decisions = run(
        [cand(kind="email", step=0, address=False), cand(kind="webhook", step=1, address=False)], **NO_QUIET
    )
    assert outcome(decisions) == [("wake_up", "c1", 0, None, R.NO_ADDRESS), ("wake_up", "c1", 1, T, None)]


def test_a_listed_customer_without_address_is_recorded_with_the_list_reason():
    assert run([cand(address=False)], suppression={"c1": R.BOUNCED})[0].suppressed is R.BOUNCED


# --- priority -----------------------------------------------------------------------------------------------------


def test_highest_priority_playbook_wins_the_customer_and_internal_kinds_never_conflict():
    candidates = [
        cand("wake_up", kind="email", priority=5),
        cand("dunning", kind="webhook", priority=9, step=0),
        cand("dunning", kind="email", priority=9, step=1),  # same enrolment: not in conflict with step 0
        cand("vip", kind="tag", priority=20),  # reaches no customer: neither wins nor loses
        cand("service", kind="task", priority=1),
        cand("wake_up", customer="c2", kind="email", priority=5),  # another customer: no conflict
    ]
    assert outcome(run(candidates, **NO_QUIET)) == [
        ("vip", "c1", 0, T, None),
        ("dunning", "c1", 0, T, None),
        ("dunning", "c1", 1, T, None),
        ("wake_up", "c1", 0, None, R.LOWER_PRIORITY),
        ("service", "c1", 0, T, None),
        ("wake_up", "c2", 0, T, None),
    ]


def test_priority_ties_go_to_the_playbook_name_then_the_trigger_key():
    candidates = [
        cand("b_play", kind="email", priority=5),
        cand("a_play", kind="email", priority=5, key="2024-05-08"),
        cand("a_play", kind="email", priority=5, key="2024-05-01"),
    ]
    assert [(d.candidate.playbook, d.candidate.trigger_key, d.suppressed) for d in run(candidates, **NO_QUIET)] == [
        ("a_play", "2024-05-01", None),
        ("a_play", "2024-05-08", R.LOWER_PRIORITY),
        ("b_play", "k", R.LOWER_PRIORITY),
    ]


def test_a_winner_that_cannot_reach_the_customer_does_not_silence_the_next_playbook():
    candidates = [cand("dunning", kind="email", priority=9, address=False), cand("wake_up", kind="webhook")]
    assert outcome(run(candidates, **NO_QUIET)) == [
        ("dunning", "c1", 0, None, R.NO_ADDRESS),
        ("wake_up", "c1", 0, T, None),
    ]


def test_a_capped_winner_does_not_hand_the_customer_to_a_lower_playbook():
    candidates = [cand("dunning", priority=9), cand("wake_up", priority=5)]
    decisions = run(candidates, sent=[("c1", T - timedelta(days=1))], max_messages=1, **NO_QUIET)
    assert [d.suppressed for d in decisions] == [R.FREQUENCY_CAP, R.LOWER_PRIORITY]


# --- frequency cap ------------------------------------------------------------------------------------------------


def three_steps(due: datetime = T) -> list[Candidate]:
    return [cand(step=step, due=due) for step in range(3)]


def reasons_with(sent: list[datetime], candidates: list[Candidate] | None = None, **setting) -> list:
    decisions = run(candidates or three_steps(), sent=[("c1", at) for at in sent], **(NO_QUIET | setting))
    return [d.suppressed for d in decisions]


def test_cap_counts_prior_sends_and_earlier_steps_of_this_call():
    # 3 per 7 days, 2 already sent within the week: step 0 is the third, steps 1 and 2 would be the fourth.
    sent = [T - timedelta(days=6), T - timedelta(days=3)]
    assert reasons_with(sent) == [None, R.FREQUENCY_CAP, R.FREQUENCY_CAP]


def test_cap_window_is_half_open():
    # A send exactly 7 days earlier is in another window; one a second later is in the same one.
    week = timedelta(days=7)
    apart = [T - week, T - timedelta(days=3), T - timedelta(days=1)]
    assert reasons_with(apart) == [None, R.FREQUENCY_CAP, R.FREQUENCY_CAP]
    later = T - week + timedelta(seconds=1)
    assert reasons_with([later, T - timedelta(days=3), T - timedelta(days=1)]) == [R.FREQUENCY_CAP] * 3


def test_cap_counts_messages_queued_for_later():
    # Deferred messages already queued at T+2d, T+4d, T+6d: a send at T would make [T, T+7d) hold four.
    assert reasons_with([T + timedelta(days=d) for d in (2, 4, 6)]) == [R.FREQUENCY_CAP] * 3
    # At T+2d, T+4d, T+7d the window [T, T+7d) holds T, T+2d, T+4d: three.
    assert reasons_with([T + timedelta(days=d) for d in (2, 4, 7)]) == [None, R.FREQUENCY_CAP, R.FREQUENCY_CAP]


def test_an_overfilled_old_window_does_not_block_a_later_send():
    old = [T - timedelta(days=20, hours=h) for h in range(4)]  # four within hours, 20 days ago
    assert reasons_with(old) == [None, None, None]


def test_cap_is_measured_on_send_at_after_quiet_hours():
    # 1 message per day; one went out at 07:30 UTC. Due 20:00 (not quiet) would be 12.5 h later: capped.
    # Due 22:00 is quiet until 08:00 next day, 24.5 h after the last send: allowed.
    sent = [("c1", utc(2024, 5, 10, 7, 30)), ("c2", utc(2024, 5, 10, 7, 30))]
    candidates = [cand(customer="c1", due=utc(2024, 5, 10, 20, 0)), cand(customer="c2", due=utc(2024, 5, 10, 22))]
    decisions = run(candidates, sent=sent, max_messages=1, per_days=1)
    assert outcome(decisions) == [
        ("wake_up", "c1", 0, None, R.FREQUENCY_CAP),
        ("wake_up", "c2", 0, utc(2024, 5, 11, 8, 0), None),
    ]


def test_kinds_that_do_not_reach_the_customer_neither_count_nor_are_capped():
    candidates = [cand(kind=kind, step=step) for step, kind in enumerate(["tag", "email", "points", "webhook"])]
    assert reasons_with([], candidates, max_messages=1) == [None, None, None, R.FREQUENCY_CAP]


def test_cap_takes_steps_in_order_not_by_due_time():
    candidates = [cand(step=0, due=T + timedelta(hours=1)), cand(step=1, due=T)]
    assert reasons_with([], candidates, max_messages=1) == [None, R.FREQUENCY_CAP]


# --- order, duplicates, validation --------------------------------------------------------------------------------


def test_output_order_is_customer_priority_playbook_step_whatever_the_input_order():
    candidates = [
        cand("b", customer="c2", priority=1, step=1, kind="tag"),
        cand("a", customer="c1", priority=1, step=0, kind="tag"),
        cand("b", customer="c1", priority=3, step=1, kind="tag"),
        cand("c", customer="c1", priority=3, step=0, kind="tag"),
        cand("b", customer="c1", priority=3, step=0, kind="tag"),
        cand("a", customer="c2", priority=1, step=0, kind="tag"),
    ]
    expected = [("b", "c1", 0), ("b", "c1", 1), ("c", "c1", 0), ("a", "c1", 0), ("a", "c2", 0), ("b", "c2", 1)]
    for seed in range(5):
        shuffled = random.Random(seed).sample(candidates, len(candidates))
        assert [row[:3] for row in outcome(run(shuffled))] == expected


def test_a_candidate_given_twice_is_rejected():
    with pytest.raises(InputError, match="given twice"):
        run([cand(), cand(kind="webhook")])


def test_naive_datetimes_are_rejected_naming_the_value():
    with pytest.raises(InputError, match=r"due_at .*datetime.datetime\(2024, 5, 1, 9, 0\)"):
        cand(due=datetime(2024, 5, 1, 9, 0))
    with pytest.raises(InputError, match=r"sent\[1\] for customer 'c9'.*datetime.datetime\(2024, 5, 1, 9, 0\)"):
        run([cand()], sent=[("c1", T), ("c9", datetime(2024, 5, 1, 9, 0))])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"max_messages": 0}, "max_messages must be a whole number >= 1, got 0"),
        ({"max_messages": True}, "max_messages must be a whole number >= 1, got True"),
        ({"per_days": -1}, "per_days must be a whole number >= 1, got -1"),
        ({"default_timezone": "Europe/Berlim"}, "default_timezone names no known time zone: 'Europe/Berlim'"),
        ({"quiet_start": "21:00"}, "quiet_start must be a local time of day"),
        ({"quiet_end": time(8, tzinfo=UTC)}, "quiet_end must be a local time of day"),
    ],
)
def test_invalid_settings_are_rejected_naming_the_value(setting, message):
    with pytest.raises(InputError, match=message):
        PressureSettings(**setting)


def test_unknown_channel_kind_lists_the_valid_ones():
    with pytest.raises(InputError, match=r"Unknown channel kind 'sms'.*valid kinds are email, webhook, file, task"):
        cand(kind="sms")


def test_suppression_list_holds_only_list_reasons():
    with pytest.raises(InputError, match=r"reason 'frequency_cap'.*only unsubscribed, bounced, erased"):
        run([cand()], suppression={"c1": R.FREQUENCY_CAP})


def test_settings_from_mapping():
    values = {
        "max_messages": 2,
        "per_days": 14,
        "quiet_start": "22:30",
        "quiet_end": "07:00:00",
        "default_timezone": "Europe/Berlin",
    }
    assert PressureSettings.from_mapping(values) == PressureSettings(2, 14, time(22, 30), time(7), "Europe/Berlin")
    assert PressureSettings.from_mapping({"quiet_end": time(9)}) == PressureSettings(quiet_end=time(9))  # TOML time
    assert PressureSettings.from_mapping({}) == PressureSettings(3, 7, time(21), time(8), "UTC")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"quiet_hours": "21-08"}, "Unknown pressure setting.*'quiet_hours'.*valid keys are max_messages, per_days"),
        ({"quiet_start": "25:00"}, "quiet_start must be a time of day like '21:00'.*got '25:00'"),
        ({"quiet_end": "8am"}, "quiet_end must be a time of day like '21:00'.*got '8am'"),
        ({"quiet_end": "08:00+02:00"}, "quiet_end must be a time of day"),
        ({"max_messages": "3"}, "max_messages must be a whole number >= 1, got '3'"),
    ],
)
def test_settings_from_mapping_rejects_bad_values(values, message):
    with pytest.raises(InputError, match=message):
        PressureSettings.from_mapping(values)


# --- properties over random schedules -----------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns"]
FACING = {"email", "webhook", "file", "offer", "survey", "coupon"}  # restated: the rules as the brief gives them
STILL_ALLOWED = {"unsubscribed": {"task"}, "bounced": {"task"}, "erased": set()}
# Five weeks from each base cross the spring (US, EU, Lord Howe in April) and autumn (Lord Howe, EU, US) changes.
BASES = [utc(2024, 3, 6), utc(2024, 10, 1)]
CLOCK_CHANGES = {  # 2024, in UTC
    "America/New_York": [utc(2024, 3, 10, 7), utc(2024, 11, 3, 6)],
    "America/St_Johns": [utc(2024, 3, 10, 5, 30), utc(2024, 11, 3, 4, 30)],
    "Europe/Berlin": [utc(2024, 3, 31, 1), utc(2024, 10, 27, 1)],
    "Australia/Lord_Howe": [utc(2024, 4, 6, 15), utc(2024, 10, 5, 15, 30)],  # a half-hour change
}
ZONE_AT_CHANGE = [(zone, at) for zone, changes in CLOCK_CHANGES.items() for at in changes]
SPAN = 35 * 24 * 60  # minutes
PLAYBOOKS = ["birthday", "dunning", "offer", "wake_up"]
QUARTERS = st.integers(0, 95).map(lambda q: time(q // 4, 15 * (q % 4)))
SMALL_HOURS = st.sampled_from([time(1, 45), time(2), time(2, 15), time(2, 30), time(3)])  # where clocks jump


@st.composite
def schedules(draw):
    base = draw(st.sampled_from(BASES))
    customers = [f"c{i}" for i in range(draw(st.integers(1, 4)))]
    priority = {name: draw(st.integers(0, 2)) for name in PLAYBOOKS}  # few values: ties are common
    config = PressureSettings(
        max_messages=draw(st.integers(1, 4)),
        per_days=draw(st.integers(1, 10)),
        quiet_start=draw(QUARTERS),
        quiet_end=draw(st.one_of(QUARTERS, SMALL_HOURS)),
        default_timezone=draw(st.sampled_from(ZONES)),
    )
    # Spread over weeks, bunched in a few days, or in the night a zone changes its clocks.
    near_change = [
        round((at - base).total_seconds() / 60)
        for _, at in ZONE_AT_CHANGE
        if base <= at < base + timedelta(minutes=SPAN)
    ]
    minutes = st.one_of(
        st.integers(0, SPAN),
        st.integers(0, 3 * 24 * 60),
        st.tuples(st.sampled_from(near_change), st.integers(-30 * 60, 6 * 60)).map(sum),
    )
    enrolments = draw(
        st.lists(
            st.tuples(st.sampled_from(PLAYBOOKS), st.sampled_from(customers), st.sampled_from(["k1", "k2"])),
            unique=True,
            max_size=10,
        )
    )
    candidates = []
    for name, customer, key in enrolments:  # an enrolment has one to four steps due now, up to 4 days apart
        start = base + timedelta(minutes=draw(minutes))
        for step in draw(st.lists(st.integers(0, 5), min_size=1, max_size=4, unique=True)):
            due = start + timedelta(minutes=draw(st.integers(0, 4 * 24 * 60)))
            kind = draw(st.sampled_from(ALL_KINDS))
            has_address = draw(st.sampled_from([True, True, True, False]))
            candidates.append(Candidate(name, priority[name], customer, key, step, kind, due, has_address))
    sent = draw(
        st.lists(
            st.tuples(st.sampled_from(customers), st.integers(-10 * 24 * 60, SPAN)),
            max_size=12,
        )
    )
    suppression = draw(st.dictionaries(st.sampled_from(customers), st.sampled_from(list(ALLOWED_DESPITE)), max_size=1))
    zone_names = st.sampled_from([*ZONES, None, "", "Mars/Olympus_Mons"])
    timezones = {customer: draw(zone_names) for customer in customers if draw(st.booleans())}
    return {
        "candidates": candidates,
        "sent": [(customer, base + timedelta(minutes=m)) for customer, m in sent],
        "suppression_list": suppression,
        "timezones": timezones,
        "settings": config,
    }


def zone_of(schedule, customer: str) -> ZoneInfo:
    try:
        return ZoneInfo(schedule["timezones"].get(customer))
    except (TypeError, ValueError, KeyError, OSError):  # missing, empty or unknown (ZoneInfoNotFoundError: KeyError)
        return ZoneInfo(schedule["settings"].default_timezone)


def quiet(schedule, customer: str, instant: datetime) -> bool:
    config = schedule["settings"]
    local = instant.astimezone(zone_of(schedule, customer)).time()
    start, end = config.quiet_start, config.quiet_end
    if start == end:
        return False
    return start <= local < end if start < end else (local >= start or local < end)


def quiet_length(start: time, end: time) -> timedelta:
    minutes = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % (24 * 60)
    return timedelta(minutes=minutes)


def eligible(schedule, c: Candidate) -> bool:
    """Could reach the customer: customer-facing, not blocked by the list, not an email without an address."""
    listed = schedule["suppression_list"].get(c.customer_id)
    return c.channel_kind in FACING and listed is None and (c.channel_kind != "email" or c.has_address)


def facing_sends(schedule, decisions, customer) -> list[datetime]:
    return [
        d.send_at
        for d in decisions
        if d.allowed and d.candidate.customer_id == customer and d.candidate.channel_kind in FACING
    ]


PROPERTY = settings(max_examples=300, deadline=None)
H50 = timedelta(hours=50)  # a deferral is shorter: under a day of quiet hours, plus a DST day that skips their end


@PROPERTY
@given(schedules())
def test_property_frequency_cap_holds_in_every_window(schedule):
    decisions = decide(**schedule)
    config = schedule["settings"]
    window = timedelta(days=config.per_days)
    for customer in {c.customer_id for c in schedule["candidates"]}:
        allowed = facing_sends(schedule, decisions, customer)
        times = [at for who, at in schedule["sent"] if who == customer] + allowed
        # A window holding too many can always be slid to start at one of its sends: try each send as a start.
        for start in times:
            if any(start <= at < start + window for at in allowed):
                assert sum(start <= at < start + window for at in times) <= config.max_messages
        # … and a message is capped only when it would break the cap, counting what went before it in this call
        # (checked where it is due outside quiet hours, so that it would have gone at its due time).
        before = [at for who, at in schedule["sent"] if who == customer]
        for d in decisions:
            if d.candidate.customer_id != customer or d.candidate.channel_kind not in FACING:
                continue
            if d.allowed:
                before.append(d.send_at)
            elif d.suppressed is R.FREQUENCY_CAP and not quiet(schedule, customer, d.candidate.due_at):
                at, pool = d.candidate.due_at, [*before, d.candidate.due_at]
                assert any(
                    start <= at < start + window
                    and sum(start <= t < start + window for t in pool) > config.max_messages
                    for start in pool
                )


@PROPERTY
@given(schedules())
def test_property_no_send_in_local_quiet_hours_and_never_early(schedule):
    config = schedule["settings"]
    for d in decide(**schedule):
        c = d.candidate
        if not d.allowed:
            continue
        assert d.send_at >= c.due_at
        if c.channel_kind not in FACING or not quiet(schedule, c.customer_id, c.due_at):
            assert d.send_at == c.due_at
            continue
        assert not quiet(schedule, c.customer_id, d.send_at)
        # Deferred to the local end of the quiet hours — or where DST skips that wall time, just past the skip.
        local = d.send_at.astimezone(zone_of(schedule, c.customer_id))
        if local.time() != config.quiet_end:
            skipped = datetime.combine(local.date(), config.quiet_end, tzinfo=local.tzinfo)
            assert skipped.astimezone(UTC).astimezone(local.tzinfo).time() != config.quiet_end
            assert timedelta(0) < local.replace(tzinfo=None) - skipped.replace(tzinfo=None) <= timedelta(hours=1)
        # Held for at most the quiet hours' length, plus an hour when the clocks go back in them — unless they
        # leave an hour or less free, which a jump forward can swallow for that day.
        length = quiet_length(config.quiet_start, config.quiet_end)
        if length < timedelta(hours=23):
            assert d.send_at - c.due_at <= length + timedelta(hours=1)


@PROPERTY
@given(
    st.sampled_from(ZONE_AT_CHANGE),
    st.integers(-30 * 60, 6 * 60),
    QUARTERS,
    st.one_of(QUARTERS, SMALL_HOURS),
)
def test_property_quiet_hours_around_clock_changes(zone_at_change, minutes, start, end):
    zone_name, change = zone_at_change
    due = change + timedelta(minutes=minutes)
    [d] = run([cand(due=due)], zones={"c1": zone_name}, quiet_start=start, quiet_end=end)
    zone = ZoneInfo(zone_name)

    def local(instant: datetime) -> time:
        return instant.astimezone(zone).time()

    def quiet_now(instant: datetime) -> bool:
        now = local(instant)
        return start != end and (start <= now < end if start < end else (now >= start or now < end))

    assert d.send_at >= due and not quiet_now(d.send_at)
    if not quiet_now(due):
        assert d.send_at == due
        return
    length = quiet_length(start, end)
    if length < timedelta(hours=23):  # as in the property above
        assert d.send_at - due <= length + timedelta(hours=1)
    # No local end of the quiet hours was passed over: minute by minute, nothing before send_at reads `end`.
    minute = due + timedelta(minutes=1)
    while minute < d.send_at:
        assert local(minute) != end, (minute, d.send_at)
        minute += timedelta(minutes=1)


@PROPERTY
@given(schedules())
def test_property_suppression_list_is_obeyed(schedule):
    for d in decide(**schedule):
        listed = schedule["suppression_list"].get(d.candidate.customer_id)
        if listed is None:
            continue
        if d.candidate.channel_kind in STILL_ALLOWED[listed]:
            assert d.allowed
        else:
            assert d.suppressed == listed


@PROPERTY
@given(schedules())
def test_property_one_playbook_the_highest_present_reaches_each_customer(schedule):
    decisions = decide(**schedule)
    for customer in {c.customer_id for c in schedule["candidates"]}:
        contenders = [c for c in schedule["candidates"] if c.customer_id == customer and eligible(schedule, c)]
        mine = [d for d in decisions if d.candidate.customer_id == customer and d.candidate in contenders]
        if not contenders:
            continue
        top = max(c.priority for c in contenders)
        playbook = min(c.playbook for c in contenders if c.priority == top)
        key = min(c.trigger_key for c in contenders if c.playbook == playbook)
        for d in mine:
            if (d.candidate.playbook, d.candidate.trigger_key) == (playbook, key):
                assert d.suppressed in (None, R.FREQUENCY_CAP)
            else:
                assert d.suppressed is R.LOWER_PRIORITY
        # The winner is never shut out by the cap without the cap being full near its due time.
        window = timedelta(days=schedule["settings"].per_days)
        for d in mine:
            if d.suppressed is R.FREQUENCY_CAP:
                others = [at for who, at in schedule["sent"] if who == customer]
                others += facing_sends(schedule, decisions, customer)
                near = [at for at in others if d.candidate.due_at - window < at < d.candidate.due_at + window + H50]
                assert len(near) >= schedule["settings"].max_messages


@PROPERTY
@given(schedules(), st.randoms(use_true_random=False))
def test_property_one_decision_per_candidate_in_a_stable_order(schedule, rng):
    decisions = decide(**schedule)
    assert sorted(map(id, (d.candidate for d in decisions))) == sorted(map(id, schedule["candidates"]))
    for d in decisions:
        assert (d.send_at is None) == (d.suppressed is not None)
        if d.candidate.channel_kind not in FACING and schedule["suppression_list"].get(d.candidate.customer_id) is None:
            assert d.allowed and d.send_at == d.candidate.due_at  # task, tag, points: never held back
    order = [
        (d.candidate.customer_id, -d.candidate.priority, d.candidate.playbook, d.candidate.step) for d in decisions
    ]
    assert order == sorted(order)
    shuffled = dict(schedule, candidates=rng.sample(schedule["candidates"], len(schedule["candidates"])))
    assert decide(**shuffled) == decisions


# --- the quiet-hours helpers on their own -------------------------------------------------------------------------


def test_the_clock_changes_used_above_are_the_zones_own():
    for zone, changes in CLOCK_CHANGES.items():
        for at in changes:
            tz = ZoneInfo(zone)
            assert (at - timedelta(seconds=1)).astimezone(tz).utcoffset() != at.astimezone(tz).utcoffset()


def test_is_quiet_and_load_zone():
    assert is_quiet(time(21), time(21), time(8)) and is_quiet(time(7, 59), time(21), time(8))
    assert not is_quiet(time(8), time(21), time(8)) and not is_quiet(time(20, 59), time(21), time(8))
    assert not is_quiet(time(3), time(5), time(5))
    assert load_zone("Asia/Kolkata").utcoffset(datetime(2024, 1, 1)) == timedelta(hours=5, minutes=30)
    assert load_zone(None) is None and load_zone("Nowhere/Atall") is None and load_zone("") is None
