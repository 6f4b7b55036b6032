"""A few months of life in the demo communities, made by the real services.

Each story (``portal.demo.stories``) is a generator: it yields the moment of its next step and,
when resumed, takes that step through the services a person would use (propose, review,
support, comment, accept, resolve, check on site, ...). ``Life.run`` plays every story's steps
in the order of their moments with the clock frozen at each, and runs the cron sweeps
(expiry, overdue stages, verifications ending) at the moments they fall due, as cron would.
So every timestamp, history entry, audit entry, notification, count and deadline is the one
real use at those moments would have produced, deadlines in working days of the city's
calendar included; nothing is inserted around the rules.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Generator, Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, or_, select

from portal.accounts.models import User
from portal.cases import services as case_services
from portal.cases.calendar import add_working_days, is_workday, set_day
from portal.cases.models import CalendarDay, Case, CaseState
from portal.core import clock
from portal.core.i18n import city_timezone_name
from portal.deliberation import services as deliberation_services
from portal.demo.votes import load_votes
from portal.extensions import db
from portal.notifications import services as notification_services
from portal.notifications.models import Notification
from portal.places.models import Community, Grid
from portal.places.services import community_by_code
from portal.proposals import services as proposal_services
from portal.proposals.models import Category, Proposal, Status, Support
from portal.residency import services as residency_services
from portal.roles.models import Agency

# A story yields the moment of its next step; ``Life.run`` resumes it at that moment.
Story = Generator[datetime, None, None]
StoryFunction = Callable[["Life"], Story]

# Cron runs the sweeps every few minutes: a stage falling due is swept this long after.
CRON_DELAY = timedelta(minutes=3)

# 2026 public holidays on weekdays and make-up working days on weekends (国务院办公厅关于2026年
# 部分节假日安排的通知, 2025-11-04), so that the demo's deadlines skip them as a city's would; and
# New Year's Day 2027, fixed by law (the rest of 2027 was not announced when this was written).
CALENDAR = [
    *((date(2026, 1, d), False, "元旦") for d in (1, 2)),
    (date(2026, 1, 4), True, "元旦调休"),
    *((date(2026, 2, d), False, "春节") for d in (16, 17, 18, 19, 20, 23)),
    (date(2026, 2, 14), True, "春节调休"),
    (date(2026, 2, 28), True, "春节调休"),
    (date(2026, 4, 6), False, "清明节"),
    *((date(2026, 5, d), False, "劳动节") for d in (1, 4, 5)),
    (date(2026, 5, 9), True, "劳动节调休"),
    (date(2026, 6, 19), False, "端午节"),
    (date(2026, 9, 25), False, "中秋节"),
    *((date(2026, 10, d), False, "国庆节") for d in (1, 2, 5, 6, 7)),
    (date(2026, 9, 20), True, "国庆节调休"),
    (date(2026, 10, 10), True, "国庆节调休"),
    (date(2027, 1, 1), False, "元旦"),
]


class Life:
    """The stage the stories play on: the people, the places, moments relative to now, and
    the scheduler that plays the steps in time order with the sweeps in between."""

    def __init__(self, now: datetime, seed: int = 2026) -> None:
        self.now = now
        self.tz = ZoneInfo(city_timezone_name())
        self.today = now.astimezone(self.tz).date()
        self.rng = random.Random(seed)  # noqa: S311 - who supports when, not a secret
        self._heap: list[tuple[datetime, int, Story]] = []
        self._seq = itertools.count()
        self._swept_until = now - timedelta(days=400)
        self._users: dict[str, User] = {}
        # The calendar's holidays and make-up days, read once (the stories do not change them).
        days = db.session.execute(select(CalendarDay.day, CalendarDay.is_workday))
        self._calendar: dict[date, bool] = dict(days.all())

    # --- moments -----------------------------------------------------------------------------

    def day(self, days_ago: int, hhmm: str) -> datetime:
        """``hhmm`` local time, ``days_ago`` days before today."""
        hour, minute = (int(x) for x in hhmm.split(":"))
        local = datetime.combine(self.today - timedelta(days=days_ago), time(hour, minute))
        return local.replace(tzinfo=self.tz).astimezone(ZoneInfo("UTC"))

    def work(self, days_ago: int, hhmm: str) -> datetime:
        """Office hours: ``hhmm`` on the working day ``days_ago`` days back, or the next one
        (the one before when the next is not over yet)."""
        day = self.today - timedelta(days=days_ago)
        forward = day
        while not is_workday(forward, self._calendar):
            forward += timedelta(days=1)
        when = self.day((self.today - forward).days, hhmm)
        if when < self.now:
            return when
        while (
            not is_workday(day, self._calendar)
            or self.day((self.today - day).days, hhmm) >= self.now
        ):
            day -= timedelta(days=1)
        return self.day((self.today - day).days, hhmm)

    def next_work(self, hhmm: str, days: int = 0) -> datetime:
        """Office hours after the story's current moment: ``hhmm`` on the first working day at
        least ``days`` days later (squeezed in soon after the moment if that is not over yet)."""
        current = clock.now()
        day = current.astimezone(self.tz).date() + timedelta(days=days)
        while True:
            when = self.day((self.today - day).days, hhmm)
            if is_workday(day, self._calendar) and when > current:
                break
            day += timedelta(days=1)
        return when if when < self.now else current + timedelta(minutes=20)

    def late_filing(self, category_code: str, late_by: int) -> datetime:
        """About noon of the last day on which a case of the category had to be filed to be
        ``late_by`` working days past its handling limit today (by the category's limit and
        the city's calendar, holidays included)."""
        limit = self.category(category_code).handling_days
        days_ago = 1
        while True:
            filed = self.day(days_ago, "12:00")
            due_day = add_working_days(filed, limit, city_timezone_name()).astimezone(self.tz)
            late = sum(
                is_workday(due_day.date() + timedelta(days=n), self._calendar)
                for n in range(1, (self.today - due_day.date()).days + 1)
            )
            if late >= late_by:
                return filed + timedelta(minutes=self.rng.randint(5, 55))
            days_ago += 1

    def recently(self, minutes: int) -> datetime:
        """``minutes`` ago, or last evening when that was in the small hours."""
        when = self.now - timedelta(minutes=minutes)
        if 7 <= when.astimezone(self.tz).hour < 23:
            return when
        evening = self.day(0 if when.astimezone(self.tz).hour >= 23 else 1, "21:40")
        return min(evening, when)

    def after(self, **delta: float) -> datetime:
        """A moment after the story's current one."""
        return clock.now() + timedelta(**delta)

    def spread(self, start: datetime, end: datetime, n: int) -> list[datetime]:
        """``n`` moments from ``start`` to ``end`` (the last one is ``end``), in waking hours."""
        moments = []
        span = (end - start).total_seconds()
        for _ in range(n - 1):
            when = start + timedelta(seconds=self.rng.uniform(0.05, 0.95) * span)
            local = when.astimezone(self.tz)
            if local.hour < 7 or local.hour >= 22:  # asleep: the evening before instead
                local = local.replace(hour=self.rng.randint(18, 21))
                if local.astimezone(ZoneInfo("UTC")) >= end:
                    local -= timedelta(days=1)
                when = local.astimezone(ZoneInfo("UTC"))
            moments.append(max(when, start + timedelta(minutes=1)))
        return [*sorted(moments), end]

    # --- people and places ---------------------------------------------------------------------

    def user(self, email: str) -> User:
        user = self._users.get(email)
        if user is None:
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                raise LookupError(email)
            self._users[email] = user
        return user

    def community(self, code: str) -> Community:
        community = community_by_code(code)
        if community is None:
            raise LookupError(code)
        return community

    def category(self, code: str) -> Category:
        return db.session.scalars(select(Category).where(Category.code == code)).one()

    def grid(self, code: str | None) -> Grid | None:
        if code is None:
            return None
        return db.session.scalars(select(Grid).where(Grid.code == code)).one()

    def agency(self, code: str) -> Agency:
        return db.session.scalars(select(Agency).where(Agency.code == code)).one()

    def liaison(self, case: Case) -> User:
        db.session.refresh(case)
        return self.user(f"liaison.{case.agency.code}@example.org")

    def residents(self, community: Community) -> list[User]:
        return list(
            db.session.scalars(
                select(User).where(User.community_id == community.id).order_by(User.id)
            )
        )

    def backers(self, p: Proposal, n: int, *, besides: Iterable[str] = ()) -> list[User]:
        """``n`` residents of ``p``'s community who have not supported it (nor are ``besides``),
        picked at random."""
        supported = set(
            db.session.scalars(select(Support.user_id).where(Support.proposal_id == p.id))
        )
        skip = set(besides)
        pool = [
            u
            for u in self.residents(p.community)
            if u.id not in supported and u.email not in skip and u.id != p.author_id
        ]
        if len(pool) < n:
            raise LookupError(f"{len(pool)} residents left to support “{p.title}”, {n} wanted")
        return self.rng.sample(pool, n)

    def supporters(self, p: Proposal) -> list[User]:
        ids = db.session.scalars(
            select(Support.user_id).where(Support.proposal_id == p.id).order_by(Support.id)
        ).all()
        return [db.session.get_one(User, i) for i in ids]

    def case(self, p: Proposal) -> Case:
        case = case_services.case_for_proposal(p)
        if case is None:
            raise LookupError(f"no case for “{p.title}”")
        return case

    # --- the scheduler -------------------------------------------------------------------------

    def run(self, stories: Iterable[StoryFunction]) -> None:
        for play in stories:
            self._schedule(play(self), None)
        while self._heap:
            when, _seq, story = heapq.heappop(self._heap)
            self.sweep_until(when)
            clock.freeze(when)
            self._schedule(story, when)
        self.sweep_until(self.now)
        clock.freeze(self.now)
        self._sweep()

    def _schedule(self, story: Story, after: datetime | None) -> None:
        """Run ``story`` up to its next step (taking the current one) and queue that step."""
        try:
            when = next(story)
        except StopIteration:
            return
        if after is not None and when <= after:  # never before the step it follows
            when = after + timedelta(minutes=2)
        if when >= self.now:  # nothing happens in the future: squeeze it in before now
            floor = after or self.now - timedelta(hours=1)
            when = max(floor + timedelta(seconds=1), self.now - timedelta(minutes=1))
            if when >= self.now:
                raise ValueError("a demo story ran out of time before now")
        heapq.heappush(self._heap, (when, next(self._seq), story))

    def sweep_until(self, until: datetime) -> None:
        """Run the sweeps at each moment before ``until`` when something falls due, as cron
        would a few minutes later: a support window closing, a stage's deadline passing."""
        while True:
            due = self._next_due()
            if due is None or due + CRON_DELAY > until:
                return
            clock.freeze(due + CRON_DELAY)
            self._sweep()
            self._swept_until = due + CRON_DELAY

    def _sweep(self) -> None:
        proposal_services.sweep()
        case_services.sweep()

    def _next_due(self) -> datetime | None:
        """The first moment after the last sweep when a sweep has something to do: a stage's
        deadline (a verification period ending, or a stage becoming overdue) or a support
        window closing. One statement: it runs before every step."""
        stage = (
            select(func.min(Case.stage_due_at))
            .where(
                Case.state.in_(
                    [
                        CaseState.dispatched,
                        CaseState.accepted,
                        CaseState.in_progress,
                        CaseState.verifying,
                    ]
                ),
                Case.stage_due_at > self._swept_until,
                or_(Case.overdue_notified_at.is_(None), Case.state == CaseState.verifying),
            )
            .scalar_subquery()
        )
        window = (
            select(func.min(Proposal.closes_at))
            .where(
                Proposal.status == Status.open,
                Proposal.closes_at > self._swept_until,
                Proposal.hidden.is_(False),
            )
            .scalar_subquery()
        )
        row = db.session.execute(select(stage, window)).one()
        found = [d for d in row if d is not None]
        return min(found) if found else None

    # --- steps the stories share ----------------------------------------------------------------

    def join(
        self, email: str, name: str, community_code: str, note: str, decider: str | None
    ) -> Generator[datetime, None, User]:
        """A new account asks to join a community; a couple of hours later the committee
        confirms it (``decider`` None: the request waits). ``user = yield from life.join(…)``."""
        from portal.demo import _user

        user = _user(email, name)
        self._users[email] = user
        req = residency_services.request_residency(user, self.community(community_code), note)
        if decider is not None:
            yield self.after(hours=2, minutes=self.rng.randint(0, 50))
            residency_services.decide(self.user(decider), req, "approve", None)
        return user

    def propose(self, author: str, community_code: str, text: dict, *, submit: bool = True):
        return proposal_services.create(
            self.user(author),
            self.community(community_code),
            title=text["title"],
            summary=text["summary"],
            body=text["body"],
            category=self.category(text["category"]),
            grid=self.grid(text.get("grid")),
            location_note=text.get("place", ""),
            submit=submit,
        )

    def comment(
        self, who: str | User, p: Proposal, body: str, stance: str | None = None, parent=None
    ):
        user = who if isinstance(who, User) else self.user(who)
        return deliberation_services.add_comment(user, p, body, stance, parent)

    def act(self, who: User, case: Case, action: str, **kwargs) -> None:
        case_services.act(who, case, action, **kwargs)

    def expected(self, case: Case, days: int) -> datetime:
        """A plan's date: ``days`` from now at 18:00, within the case's handling limit."""
        local = (clock.now() + timedelta(days=days)).astimezone(self.tz)
        wanted = local.replace(hour=18, minute=0, second=0, microsecond=0)
        return min(wanted.astimezone(ZoneInfo("UTC")), case.handling_due_at)

    def later_than_limit(self, case: Case, working_days: int) -> datetime:
        return add_working_days(case.handling_due_at, working_days, city_timezone_name())

    def read_old_notifications(self, older_than: timedelta) -> None:
        """Everyone has read what they were told before ``older_than`` ago."""
        cutoff = self.now - older_than
        clock.freeze(cutoff)
        rows = db.session.execute(
            select(Notification.user_id, Notification.id).where(
                Notification.created_at < cutoff, Notification.read_at.is_(None)
            )
        ).all()
        by_user: dict[int, list[int]] = {}
        for user_id, notification_id in rows:
            by_user.setdefault(user_id, []).append(notification_id)
        for user_id, ids in by_user.items():
            notification_services.mark_read(db.session.get_one(User, user_id), ids)


def set_calendar() -> None:
    for day, workday, note in CALENDAR:
        set_day(day, workday, note)


def already_lived() -> bool:
    from portal.demo.stories import MARKER_EMAIL

    return db.session.scalar(select(User.id).where(User.email == MARKER_EMAIL)) is not None


def load_life(now: datetime | None = None) -> bool:
    """Play the demo's stories up to ``now`` (default: the clock's now) once; returns False when
    they were played before. Needs ``load_demo`` first. Flushes, never commits."""
    from portal.demo.meeting_stories import MEETING_STORIES
    from portal.demo.stories import STORIES

    if already_lived():
        return False
    frozen = clock.frozen()
    now = now or clock.now()
    try:
        with current_app.test_request_context("/"):  # services link their notifications
            set_calendar()
            life = Life(now)
            life.run([*STORIES, *MEETING_STORIES])
            load_votes(now)
            life.read_old_notifications(timedelta(days=3))
        db.session.flush()
    finally:
        clock.freeze(frozen)
    return True
