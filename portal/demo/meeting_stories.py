"""The demo's community meetings (议事会) in 多福巷: one held a fortnight ago, with its minutes,
its decisions (one on a case, shown in the case's timeline), an agency's written answer and
another agency's missed deadline; and one coming up next week, published, with an answer in
draft, registrations and a question. Played by ``portal.demo.life.Life`` like the stories."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.cases.models import Case, CaseState
from portal.core import clock
from portal.demo.life import Life, StoryFunction
from portal.demo.stories import COMMITTEE, DUOFU, r
from portal.extensions import db
from portal.meetings import services as meetings
from portal.proposals.models import Proposal, Status


def _case(life: Life, skip: tuple[int, ...] = ()) -> Case:
    """The oldest case of 多福巷 still being handled (not one of ``skip``, if another is)."""
    found = db.session.scalars(
        select(Case)
        .where(
            Case.community_id == life.community(DUOFU).id,
            Case.state.in_((CaseState.accepted, CaseState.in_progress, CaseState.dispatched)),
            Case.id.not_in(skip or (0,)),
        )
        .order_by(Case.id)
    ).first()
    if found is None:
        if skip:
            return _case(life)
        raise LookupError("no case of 多福巷 being handled")
    return found


def _open_proposal(life: Life, skip: tuple[int, ...] = ()) -> Proposal:
    """The oldest open proposal of 多福巷 (not one of ``skip``, if another is)."""
    found = db.session.scalars(
        select(Proposal)
        .where(
            Proposal.community_id == life.community(DUOFU).id,
            Proposal.status == Status.open,
            Proposal.hidden.is_(False),
            Proposal.id.not_in(skip or (0,)),
        )
        .order_by(Proposal.id)
    ).first()
    if found is None:
        if skip:
            return _open_proposal(life)
        raise LookupError("no open proposal of 多福巷")
    return found


def _evening(life: Life, days_from_today: int) -> datetime:
    local = datetime.combine(life.today + timedelta(days=days_from_today), time(19, 0))
    return local.replace(tzinfo=life.tz)


def held_meeting(life: Life):
    """Planned three weeks ago, held a fortnight ago: minutes and a decision on every item."""
    yield life.work(24, "10:00")
    committee = life.user(COMMITTEE)
    start = _evening(life, -16)
    m = meetings.create_meeting(
        committee,
        life.community(DUOFU),
        meetings.Details(
            title="十一月居民议事会",
            description="本月议事会讨论居民反映集中的问题，邀请相关职能部门书面答复并到会说明。",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            location="多福巷社区活动室（二楼）",
            capacity=40,
        ),
    )
    case = _case(life)
    p = _open_proposal(life)
    on_case = meetings.add_item(
        committee, m, case_number=case.number, note="居民多次反映，请承办部门说明处置进度。"
    )
    on_proposal = meetings.add_item(
        committee, m, proposal_id=p.id, note="附议仍在进行，先听取居民和部门意见。"
    )
    meetings.add_item(committee, m, topic="冬季用电和燃气安全", note="入冬前的安全提示。")
    answered = meetings.invite(committee, on_case, case.agency)
    meetings.invite(committee, on_proposal, life.agency("street-office"))  # never answers
    meetings.publish(committee, m)
    yield life.work(20, "15:30")
    meetings.save_answer(
        life.user(f"liaison.{case.agency.code}@example.org"),
        answered,
        body="我单位已受理该案件，正在组织现场勘查，预计两周内完成处置，并将在会上说明进展。",
        commitments=[
            meetings.CommitmentIn("完成现场勘查", (clock.now() + timedelta(days=7)).date()),
            meetings.CommitmentIn("完成处置并回复居民", (clock.now() + timedelta(days=21)).date()),
        ],
        attendee_role="科室负责人",
        publish=True,
    )
    for n in (2, 3, 4):
        yield life.day(19, f"21:{n}5")
        meetings.register(life.user(r(n)), m)
    yield life.day(18, "20:40")
    meetings.ask(life.user(r(3)), on_case, "勘查之后多久能动工？施工期间是否影响通行？")
    yield start + timedelta(hours=2, minutes=30)
    meetings.publish_minutes(
        committee,
        m,
        "出席：居委会委员3人，居民代表17人，承办部门科室负责人1人。\n\n"
        "一、承办部门说明了案件处置进度，承诺两周内完成处置。\n"
        "二、关于居民提议，与会居民意见不一，决定继续征集意见。\n"
        "三、居委会提示冬季用电和燃气安全。",
        [
            meetings.DecisionIn(
                on_case.id, "agreed-action", "承办部门两周内完成处置，居委会跟进。"
            ),
            meetings.DecisionIn(on_proposal.id, "needs-more-input", "附议期内继续听取居民意见。"),
            meetings.DecisionIn(m.items[2].id, "no-action", "已作安全提示。"),
        ],
    )


def upcoming_meeting(life: Life):
    """Published two days ago for next week: one answer in draft, registrations, a question."""
    yield life.work(2, "11:00")
    committee = life.user(COMMITTEE)
    start = _evening(life, 6)
    m = meetings.create_meeting(
        committee,
        life.community(DUOFU),
        meetings.Details(
            title="十二月居民议事会",
            description="年底议事会：回顾本年度案件办理情况，讨论居民新提出的议题。",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            location="多福巷社区活动室（二楼）",
            online_url="https://meeting.example.org/duofu-12",
            capacity=30,
        ),
    )
    done = tuple(it.case_id for it in _held_items() if it.case_id)
    case = _case(life, skip=done)
    p = _open_proposal(life, skip=tuple(it.proposal_id for it in _held_items() if it.proposal_id))
    on_case = meetings.add_item(committee, m, case_number=case.number, note="请承办部门说明进展。")
    meetings.add_item(committee, m, proposal_id=p.id, note="居民新提议，听取意见。")
    invitation = meetings.invite(committee, on_case, case.agency)
    meetings.publish(committee, m)
    yield life.work(1, "16:00")
    meetings.save_answer(
        life.user(f"liaison.{case.agency.code}@example.org"),
        invitation,
        body="（草稿）我单位将派员出席并说明处置情况。",
        commitments=[],
        attendee_role="",
        publish=False,
    )
    for n in (1, 2):
        yield life.recently(200 - n * 30)
        meetings.register(life.user(r(n)), m)
    yield life.recently(60)
    meetings.ask(life.user(r(2)), on_case, "能否在会上公布具体的完工时间？")


def _held_items():
    from portal.meetings.models import AgendaItem

    return list(db.session.scalars(select(AgendaItem)))


MEETING_STORIES: list[StoryFunction] = [held_meeting, upcoming_meeting]
