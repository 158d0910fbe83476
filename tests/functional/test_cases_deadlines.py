"""Deadlines in working days (DESIGN.md §3): counted from acceptance on China's calendar, across
National Day week and Spring Festival of 2026 and the turn of 2026 to 2027 (2027 follows the
calendar's rule until the State Council's notice is entered); moved by the working days a
special procedure or a correction during review stopped the clock; and article 32's
acceptance of a submission left unanswered.

The expected dates are written out from the official 2026 calendar (国办发明电〔2025〕7号):
National Day 10-01..10-07 with make-up working days Sunday 09-20 and Saturday 10-10; Mid-Autumn
Friday 09-25; Spring Festival 02-15..02-23 with make-up working days Saturday 02-14 and 02-28;
2027 by the rule: New Year's Day Friday 01-01 only. The day of an event is not counted.

Everything goes through the case use cases with an explicit ``now``: the endpoints use the real
clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from sanic import Sanic

from auth.permissions import Subject
from cases import filing, prereview, review
from cases.models import Case, CaseEvent, CorrectionNotice
from cases.states import CaseStatus
from core.calendar import set_override
from core.clock import utcnow
from tests.cases_flow import CaseCatalogue, import_case_catalogue
from tests.cases_service import (
    CIPHER,
    Desk,
    accepted,
    at,
    check_case,
    desk,
    in_review,
    person,
    ready_file,
    submitted,
    worker_paused,
)


@dataclass
class Office:
    cat: CaseCatalogue
    desk: Desk
    applicant: Subject


@pytest.fixture
async def office(clean: Sanic) -> AsyncIterator[Office]:
    async with worker_paused(clean):
        cat = await import_case_catalogue(clean, audience="both")
        yield Office(cat=cat, desk=await desk(cat), applicant=await person())


D = date

# (day of acceptance, promised due day (10 working days), statutory due day (20 working days))
ACCEPTANCES = [
    pytest.param(D(2026, 9, 30), D(2026, 10, 20), D(2026, 11, 3), id="eve-of-national-day"),
    pytest.param(D(2026, 10, 1), D(2026, 10, 20), D(2026, 11, 3), id="national-day"),
    pytest.param(D(2026, 10, 7), D(2026, 10, 20), D(2026, 11, 3), id="last-day-of-the-week"),
    pytest.param(D(2026, 10, 8), D(2026, 10, 21), D(2026, 11, 4), id="first-day-back"),
    pytest.param(D(2026, 10, 10), D(2026, 10, 23), D(2026, 11, 6), id="make-up-saturday"),
    pytest.param(D(2026, 2, 13), D(2026, 3, 5), D(2026, 3, 19), id="before-spring-festival"),
    pytest.param(D(2026, 2, 14), D(2026, 3, 6), D(2026, 3, 20), id="spring-make-up-saturday"),
    pytest.param(D(2026, 2, 18), D(2026, 3, 6), D(2026, 3, 20), id="spring-festival"),
    pytest.param(D(2026, 12, 28), D(2027, 1, 12), D(2027, 1, 26), id="into-2027"),
    pytest.param(D(2026, 12, 31), D(2027, 1, 15), D(2027, 1, 29), id="new-years-eve"),
    pytest.param(D(2027, 1, 1), D(2027, 1, 15), D(2027, 1, 29), id="new-years-day-2027"),
]


@pytest.mark.parametrize(("day", "promised", "statutory"), ACCEPTANCES)
async def test_due_dates_count_working_days_from_acceptance(
    office: Office, day: date, promised: date, statutory: date
) -> None:
    case = await accepted(office.applicant, office.cat, office.desk.clerk, now=at(day))

    stored = await Case.get(id=case.id)
    assert stored.accepted_on == day
    assert stored.promised_due_on == promised
    assert stored.statutory_due_on == statutory
    assert stored.acceptance_number == f"{office.cat.lead}-{day:%Y%m%d}-00001"
    await check_case(case.id)


# (day of submission, the article 32 answer day: 5 working days)
SUBMISSIONS = [
    pytest.param(D(2026, 9, 30), D(2026, 10, 13), id="national-day"),
    pytest.param(D(2026, 10, 3), D(2026, 10, 13), id="during-national-day"),
    pytest.param(D(2026, 2, 13), D(2026, 2, 27), id="spring-festival"),
    pytest.param(D(2026, 12, 30), D(2027, 1, 7), id="into-2027"),
]


@pytest.mark.parametrize(("day", "answer_by"), SUBMISSIONS)
async def test_the_answer_day_of_a_submission_skips_holidays(
    office: Office, day: date, answer_by: date
) -> None:
    case = await submitted(office.applicant, office.cat, now=at(day))

    assert (await Case.get(id=case.id)).answer_due_on == answer_by


async def test_the_day_is_chinas_not_utcs(office: Office) -> None:
    """00:30 on 1 October in China is still 30 September in UTC: the holiday counts."""
    case = await accepted(
        office.applicant, office.cat, office.desk.clerk, now=at(D(2026, 10, 1), hour=0)
    )
    stored = await Case.get(id=case.id)
    assert stored.accepted_on == D(2026, 10, 1)
    assert stored.acceptance_number.endswith("-20261001-00001")  # type: ignore[union-attr]


async def test_an_override_of_the_calendar_moves_the_due_date(office: Office) -> None:
    """The State Council's 2027 notice, once entered, is what counts: a bridging day off on
    Thursday 31 December 2026 pushes the limits by one working day."""
    await set_override(
        day=D(2026, 12, 31), is_workday=False, note="元旦调休", actor="test", now=utcnow()
    )
    case = await accepted(office.applicant, office.cat, office.desk.clerk, now=at(D(2026, 12, 28)))

    stored = await Case.get(id=case.id)
    assert stored.promised_due_on == D(2027, 1, 13)
    assert stored.statutory_due_on == D(2027, 1, 27)


# (suspended on, resumed on, working days stopped, promised due, statutory due) for a case
# accepted on Monday 21 September 2026: promised 10-12, statutory 10-26 while nothing stops.
SUSPENSIONS = [
    pytest.param(D(2026, 9, 29), D(2026, 10, 9), 3, D(2026, 10, 15), D(2026, 10, 29), id="across"),
    pytest.param(D(2026, 10, 1), D(2026, 10, 7), 0, D(2026, 10, 12), D(2026, 10, 26), id="inside"),
    pytest.param(D(2026, 9, 30), D(2026, 10, 8), 1, D(2026, 10, 13), D(2026, 10, 27), id="edges"),
    pytest.param(D(2026, 9, 28), D(2026, 9, 28), 0, D(2026, 10, 12), D(2026, 10, 26), id="same"),
]


@pytest.mark.parametrize(("stop", "restart", "stopped", "promised", "statutory"), SUSPENSIONS)
async def test_a_special_procedure_moves_the_due_dates_by_the_working_days_it_took(
    office: Office, stop: date, restart: date, stopped: int, promised: date, statutory: date
) -> None:
    case, _ = await in_review(office.applicant, office.cat, office.desk, now=at(D(2026, 9, 21)))
    assert (case.promised_due_on, case.statutory_due_on) == (D(2026, 10, 12), D(2026, 10, 26))

    paused = await review.suspend(
        subject=office.desk.reviewer,
        case_id=case.id,
        procedure="inspection",
        reason="需要现场核查。",
        now=at(stop),
    )
    assert paused.status == CaseStatus.suspended
    assert (await Case.get(id=case.id)).paused_on == stop
    await review.resume(
        subject=office.desk.reviewer, case_id=case.id, comment="核查完毕。", now=at(restart, 15)
    )

    stored = await Case.get(id=case.id)
    assert stored.status == CaseStatus.in_review
    assert stored.paused_on is None
    assert stored.paused_working_days == stopped
    assert (stored.promised_due_on, stored.statutory_due_on) == (promised, statutory)
    resumed = await CaseEvent.filter(case_id=case.id, action="resume").get()
    assert resumed.details["stopped_working_days"] == stopped
    await check_case(case.id)


async def test_two_suspensions_add_up(office: Office) -> None:
    case, _ = await in_review(office.applicant, office.cat, office.desk, now=at(D(2026, 9, 21)))
    for stop, restart in ((D(2026, 9, 22), D(2026, 9, 24)), (D(2026, 9, 29), D(2026, 10, 8))):
        await review.suspend(
            subject=office.desk.reviewer,
            case_id=case.id,
            procedure="hearing",
            reason="举行听证。",
            now=at(stop),
        )
        await review.resume(
            subject=office.desk.reviewer, case_id=case.id, comment="", now=at(restart)
        )

    stored = await Case.get(id=case.id)
    assert stored.paused_working_days == 2 + 2  # 09-23, 09-24; 09-30, 10-08
    assert stored.promised_due_on == D(2026, 10, 16)
    assert stored.statutory_due_on == D(2026, 10, 30)


async def test_a_correction_during_review_stops_the_clock_until_the_resubmission(
    office: Office,
) -> None:
    case, _ = await in_review(office.applicant, office.cat, office.desk, now=at(D(2026, 9, 21)))

    asked = await prereview.request_correction(
        subject=office.desk.reviewer,
        case_id=case.id,
        items=[{"kind": "material", "code": office.cat.photo, "problem": "照片不清晰。"}],
        comment="",
        now=at(D(2026, 9, 29)),
    )
    assert asked.status == CaseStatus.correction_requested
    stored = await Case.get(id=case.id)
    assert stored.paused_on == D(2026, 9, 29)
    assert stored.correction_stage == "review"

    await ready_file(stored, office.cat.photo, now=at(D(2026, 10, 9), 9))
    back = await filing.submit(
        cipher=CIPHER, subject=office.applicant, case_id=case.id, now=at(D(2026, 10, 9))
    )

    assert back.status == CaseStatus.in_review  # straight back to review, not to pre-review
    stored = await Case.get(id=case.id)
    assert stored.paused_on is None
    assert stored.paused_working_days == 3  # 09-30, 10-08, 10-09
    assert stored.promised_due_on == D(2026, 10, 15)
    assert stored.statutory_due_on == D(2026, 10, 29)
    assert stored.acceptance_number is not None and stored.accepted_on == D(2026, 9, 21)
    notice = await CorrectionNotice.get(case_id=case.id, round=1)
    assert notice.resolved_at is not None
    await check_case(case.id)


# --------------------------------------------------------------------------------------------
# Article 32: a submission left unanswered for five working days is accepted
# --------------------------------------------------------------------------------------------


async def test_article_32_accepts_what_was_left_unanswered_for_five_working_days(
    office: Office,
) -> None:
    # The job runs on Wednesday 14 October 2026. Working days before it: 10-13, 10-12,
    # 10-10 (make-up Saturday), 10-09, 10-08, then 09-30 across National Day week.
    six_before = await submitted(office.applicant, office.cat, now=at(D(2026, 9, 30)))
    five_before = await submitted(office.applicant, office.cat, now=at(D(2026, 10, 8)))
    four_before = await submitted(office.applicant, office.cat, now=at(D(2026, 10, 9)))
    answered = await submitted(office.applicant, office.cat, now=at(D(2026, 9, 30)))
    await prereview.refuse(
        subject=office.desk.clerk,
        case_id=answered.id,
        reasons="不属于本机关职权范围。",
        now=at(D(2026, 10, 8)),
    )
    job_time = at(D(2026, 10, 14), hour=2)

    assert await prereview.auto_accept_overdue(now=job_time) == [six_before.id]

    case = await Case.get(id=six_before.id)
    assert case.status == CaseStatus.accepted
    # 逾期不告知的，自收到申请材料之日起即为受理: the clock runs from the submission.
    assert case.accepted_on == D(2026, 9, 30)
    assert case.promised_due_on == D(2026, 10, 20)
    assert case.statutory_due_on == D(2026, 11, 3)
    assert case.acceptance_number is not None
    last = await CaseEvent.filter(case_id=case.id).order_by("-id").first()
    assert last is not None
    assert (last.action, last.actor, last.role) == ("auto_accept", "system", "system")
    assert "第三十二条" in last.comment
    assert (last.from_status, last.to_status) == ("submitted", "accepted")
    await check_case(case.id)
    for untouched in (five_before, four_before):
        assert (await Case.get(id=untouched.id)).status == CaseStatus.submitted
    assert (await Case.get(id=answered.id)).status == CaseStatus.refused

    # Run again (another worker, the next tick): nothing more to do.
    assert await prereview.auto_accept_overdue(now=job_time) == []
    # The next working day, the case submitted on 10-08 is past its answer day too.
    assert await prereview.auto_accept_overdue(now=at(D(2026, 10, 15), hour=2)) == [five_before.id]


async def test_article_32_counts_from_the_resubmission_after_a_correction(office: Office) -> None:
    case = await submitted(office.applicant, office.cat, now=at(D(2026, 9, 21)))
    await prereview.request_correction(
        subject=office.desk.clerk,
        case_id=case.id,
        items=[{"kind": "field", "code": "reason", "problem": "请写明更正项目。"}],
        comment="",
        now=at(D(2026, 9, 22)),
    )
    # While the applicant corrects, no answer is owed.
    assert await prereview.auto_accept_overdue(now=at(D(2026, 10, 12))) == []
    await filing.update_form(
        cipher=CIPHER,
        subject=office.applicant,
        case_id=case.id,
        form={"reason": "姓名中错别字更正"},
        now=at(D(2026, 10, 12)),
    )
    await filing.submit(
        cipher=CIPHER, subject=office.applicant, case_id=case.id, now=at(D(2026, 10, 12))
    )
    assert (await Case.get(id=case.id)).answer_due_on == D(2026, 10, 19)
    assert await prereview.auto_accept_overdue(now=at(D(2026, 10, 19))) == []
    assert await prereview.auto_accept_overdue(now=at(D(2026, 10, 20))) == [case.id]
    assert (await Case.get(id=case.id)).accepted_on == D(2026, 10, 12)
    await check_case(case.id)
