"""What a quiz's settings allow, as pure functions of the quiz, the learner's count of
attempts and the moment: whether an attempt may start, when it stops taking answers, and
when right answers may be shown. No database, no request.
"""

from datetime import datetime, timedelta

from django.utils import formats, timezone

from learning.models import FeedbackTiming, Quiz

# A review session or course challenge left open is closed and scored (unanswered
# questions counting as wrong) this long after it started.
COURSE_SESSION_HOURS = 24


def moment(value: datetime) -> str:
    """A date and time as the pages write them, in the site's time zone."""
    return formats.date_format(timezone.localtime(value), "j M Y, H:i")


def start_refusal(quiz: Quiz, *, attempts_used: int, now: datetime) -> str | None:
    """Why a new attempt at `quiz` cannot start now, or None when it can.

    `attempts_used`: the learner's attempts at this quiz that are finished or expired."""
    if quiz.opens_at is not None and now < quiz.opens_at:
        return f"This quiz opens on {moment(quiz.opens_at)}."
    if quiz.closes_at is not None and now >= quiz.closes_at:
        return f"This quiz closed on {moment(quiz.closes_at)}: no new attempt can start."
    allowed = quiz.attempts_allowed
    if allowed is not None and attempts_used >= allowed:
        plural = "s" if allowed != 1 else ""
        return f"You have used the {allowed} attempt{plural} this quiz allows."
    return None


def deadline_for(quiz: Quiz, started: datetime) -> datetime | None:
    """When a new attempt's time runs out: a topic quiz's time limit, or a course
    session's expiry. The quiz's closing time is checked on its own (it may move)."""
    if not quiz.is_topic_quiz:
        hours = COURSE_SESSION_HOURS
        if quiz.time_limit_minutes:
            return started + min(
                timedelta(hours=hours), timedelta(minutes=quiz.time_limit_minutes)
            )
        return started + timedelta(hours=hours)
    if quiz.time_limit_minutes:
        return started + timedelta(minutes=quiz.time_limit_minutes)
    return None


def feedback_shown(quiz: Quiz, *, attempt_finished: bool, now: datetime) -> bool:
    """Whether the verdict, right answers and explanation of an answered question may be
    shown now."""
    timing = quiz.feedback_timing
    if timing == FeedbackTiming.AFTER_ANSWER:
        return True
    if timing == FeedbackTiming.AFTER_ATTEMPT:
        return attempt_finished
    if timing == FeedbackTiming.AFTER_CLOSE:
        return quiz.closes_at is not None and now >= quiz.closes_at
    return False


def feedback_promise(quiz: Quiz) -> str:
    """When the right answers will be shown, for a learner who cannot see them yet."""
    timing = quiz.feedback_timing
    if timing == FeedbackTiming.AFTER_ATTEMPT:
        return "The right answers and explanations are shown when you finish the attempt."
    if timing == FeedbackTiming.AFTER_CLOSE:
        if quiz.closes_at is None:
            return "The right answers and explanations are shown once the quiz closes."
        return (
            "The right answers and explanations are shown once the quiz closes, on "
            f"{moment(quiz.closes_at)}."
        )
    if timing == FeedbackTiming.NEVER:
        return "This quiz does not show the right answers."
    return ""
