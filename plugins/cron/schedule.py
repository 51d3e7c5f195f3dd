"""Cron schedules: five fields (minute hour day-of-month month day-of-week) with `*`,
`*/N`, ranges `A-B[/N]`, lists, month and weekday names, or the `@hourly`-style
aliases. Times are the host's local time, as with cron."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.api import UserError

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: i + 1 for i, name in enumerate(MONTHS)}),
    ("day of week", 0, 7, {name: i for i, name in enumerate(DAYS)}),
)
_ITEM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d{1,2}))?$")


@dataclass(frozen=True)
class Schedule:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    def matches(self, when: datetime) -> bool:
        if (
            when.minute not in self.minutes
            or when.hour not in self.hours
            or when.month not in self.months
        ):
            return False
        day_ok = when.day in self.days
        weekday_ok = (when.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok  # cron: either restricted day field may match

    def next_after(self, when: datetime) -> datetime:
        """The first minute strictly after `when` that the schedule matches."""
        candidate = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
        limit = candidate + timedelta(days=366 * 5)
        while candidate < limit:
            if candidate.month not in self.months:
                year = candidate.year + (candidate.month == 12)
                month = candidate.month % 12 + 1
                candidate = candidate.replace(year=year, month=month, day=1, hour=0, minute=0)
                continue
            if not self.matches(candidate.replace(hour=min(self.hours), minute=min(self.minutes))):
                candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0)
                continue
            if candidate.hour not in self.hours:
                candidate = (candidate + timedelta(hours=1)).replace(minute=0)
                continue
            if candidate.minute not in self.minutes:
                candidate += timedelta(minutes=1)
                continue
            return candidate
        raise UserError(f"schedule {self.text!r} never runs")


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        match = _ITEM.fullmatch(item)
        if not match:
            raise UserError(f"bad {name} {item!r}")
        span, step_text = match.group(1), match.group(2)
        step = int(step_text) if step_text else 1
        if step < 1:
            raise UserError(f"bad step in {name} {item!r}")
        if span == "*":
            start, end = low, high
        else:
            first, _, last = span.partition("-")
            start = _number(first, name, low, high, names)
            end = _number(last, name, low, high, names) if last else start
            if step_text and not last:
                end = high  # `5/15`: from 5 on, every 15
            if end < start:
                raise UserError(f"bad range in {name} {item!r}")
        values.update(range(start, end + 1, step))
    return values


def _number(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit() or not low <= int(text) <= high:
        raise UserError(f"{name} {text!r} is out of range {low}-{high}")
    return int(text)


def parse(text: str) -> Schedule:
    """Parse a schedule, or raise UserError saying what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise UserError("empty schedule")
    spec = " ".join(text.lower().split())
    if spec.startswith("@"):
        if spec not in ALIASES:
            raise UserError(f"unknown schedule {text!r}: use five fields or one of "
                            + ", ".join(ALIASES))  # fmt: skip
        spec = ALIASES[spec]
    parts = spec.split(" ")
    if len(parts) != 5:
        raise UserError(f"schedule {text!r} needs five fields: minute hour day month weekday")
    try:
        sets = [_field(part, *f) for part, f in zip(parts, FIELDS, strict=True)]
    except UserError as exc:
        raise UserError(f"invalid schedule {text!r}: {exc}") from None
    weekdays = {d % 7 for d in sets[4]}
    return Schedule(
        text=text.strip(),
        minutes=frozenset(sets[0]),
        hours=frozenset(sets[1]),
        days=frozenset(sets[2]),
        months=frozenset(sets[3]),
        weekdays=frozenset(weekdays),
        any_day=parts[2] == "*",
        any_weekday=parts[4] == "*",
    )
