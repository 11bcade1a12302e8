"""Regrading: past answers to a question graded again against its answer key of today.

A teacher who finds a question's key wrong (the wrong option ticked, a tolerance too tight,
a credit too mean) fixes the question, then regrades: every past response is graded again,
its stored answer against today's key mapped onto the version the learner was asked
(`key_as_asked`). Only what grades an answer counts (rightness, credit, matches, values,
tolerances, accepted texts): a changed prompt, explanation or feedback regrades nothing.

The rules, each stated once here and in the README:

- Where learners see the rows (options, items to match), each row they saw is graded by the
  row with the same id today; a row deleted since is no longer right and earns nothing; a
  row added since is left out, since no learner could have picked it. Where learners type
  their answer (numeric, short answer), the rows are hidden, so today's key applies whole.
- Answers given when the question was of another type are left as they were.
- The stored answer and the version asked are never rewritten. A response keeps the points
  it first earned (`original_points`), when they last changed (`regraded_at`) and the
  version whose key graded it (`graded_version`); its review shows that key's verdict.
- Attempts get their points, percent and pass again (the pass mark of today, and only when
  the percent changed); best scores are recomputed from the learner's attempts; mastery is
  replayed from the learner's topic-quiz attempts in order with the old and the new
  scores, and only when the two replays end differently does the topic take the new
  replay's level (moves made by the course challenge or spaced review are not replayed);
  item statistics are recomputed for the questions of the first attempts that changed.
  Review cards keep their schedule.

`plan_regrade` is the dry run (it writes nothing); `apply_regrade` applies the plan whose
token the teacher saw, in one transaction, with a fixed number of queries.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import formats, timezone

from learning import insight, page_cache, question_types, scoring
from learning.lti import grades
from learning.mastery import COMPLETION_LEVEL, MasteryState, mastery_after_attempt
from learning.models import (
    Attempt,
    AttemptState,
    Mastery,
    Question,
    QuestionVersion,
    QuizKind,
    Regrade,
    Response,
    TopicProgress,
)
from learning.question_types.base import (
    CREDITS_SCORING,
    ZERO,
    ChoiceKey,
    QuestionKey,
    key_from_snapshot,
)
from learning.versions import question_version, snapshot_digest, snapshot_question

# -- the rules, pure ------------------------------------------------------------------------


def key_as_asked(asked: Mapping[str, Any], key: QuestionKey) -> QuestionKey:
    """`key`, a question's answer key of today, mapped onto the question as a learner was
    asked it (`asked`, a version's snapshot): see the module's rules."""
    if not question_types.get(key.type).shows_rows:
        return key
    today = {row.id: row for row in key.choices}
    rows = []
    for seen in key_from_snapshot(asked).choices:
        now = today.get(seen.id)
        if now is None:
            rows.append(replace(seen, is_correct=False, credit=ZERO))
        else:
            rows.append(replace(now, text=seen.text, feedback=seen.feedback))
    return replace(key, choices=tuple(rows))


def grading_terms(key: QuestionKey) -> QuestionKey:
    """The parts of a key that grade an answer (feedback does not), in a fixed order, so
    two keys that grade alike compare equal."""
    rows = sorted((replace(row, feedback="") for row in key.choices), key=lambda row: row.id)
    return replace(key, choices=tuple(rows))


def regrade_points(
    old_snapshot: Mapping[str, Any], new_key: QuestionKey, answer: Mapping[str, Any]
) -> Decimal:
    """What a stored answer to the question as asked (`old_snapshot`) earns under
    `new_key`. Both must be of the same question type."""
    question_type = question_types.get(new_key.type)
    mapped = key_as_asked(old_snapshot, new_key)
    return question_types.grade(mapped, question_type.answer_from_json(answer))


def _number(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.normalize():f}"


def _row(choice: ChoiceKey) -> dict[str, Any]:
    return {
        "id": choice.id,
        "text": choice.text,
        "is_correct": choice.is_correct,
        "credit": str(choice.credit),
        "match_text": choice.match_text,
        "numeric_value": _number(choice.numeric_value),
        "numeric_tolerance": str(choice.numeric_tolerance),
        "feedback": choice.feedback,
    }


def snapshot_as_regraded(asked: Mapping[str, Any], graded: Mapping[str, Any]) -> dict[str, Any]:
    """What a regraded response's review shows: the question as asked (its prompt and the
    rows the learner saw, in their words), graded by the version it is now graded by
    (`graded`, a snapshot), whose explanation and feedback on each row say why, so the
    verdict and the words beside it agree. A row deleted since says nothing."""
    key = key_from_snapshot(graded)
    mapped = key_as_asked(asked, key)
    today = {row.id: row.feedback for row in key.choices}
    rows = [replace(row, feedback=today.get(row.id, "")) for row in mapped.choices]
    return {
        **asked,
        "explanation": graded.get("explanation", asked.get("explanation", "")),
        "choices": [_row(choice) for choice in rows],
        "numeric_answer": _number(mapped.numeric_answer),
        "numeric_tolerance": str(mapped.numeric_tolerance),
        "numeric_feedback": graded.get("numeric_feedback", ""),
        # The rows carry the credits that graded (`key_from_snapshot` read any old ones).
        "scoring": CREDITS_SCORING,
    }


@dataclass(frozen=True)
class PastResponse:
    id: int
    attempt_id: int
    version_id: int
    asked: Mapping[str, Any]
    answer: Mapping[str, Any]
    points: Decimal


@dataclass(frozen=True)
class PointsChange:
    response_id: int
    attempt_id: int
    version_id: int
    before: Decimal
    after: Decimal


def points_changes(responses: Iterable[PastResponse], key: QuestionKey) -> list[PointsChange]:
    """The responses whose points differ under `key`, with their points before and after."""
    changes = []
    for response in responses:
        after = regrade_points(response.asked, key, response.answer)
        if after != response.points:
            changes.append(
                PointsChange(
                    response.id, response.attempt_id, response.version_id, response.points, after
                )
            )
    return changes


@dataclass(frozen=True)
class AttemptScore:
    """An attempt as it stands, with what a regrade needs to score it again."""

    id: int
    learner_id: int
    topic_id: int | None  # a topic quiz's topic; None for the course-wide quizzes
    sequence: int | None
    closed: bool
    points: Decimal
    percent: Decimal | None
    passed: bool | None
    question_total: int
    pass_mark: int
    learner: str = ""
    quiz: str = ""
    finished_at: datetime | None = None

    @property
    def counts_in_item_statistics(self) -> bool:
        return self.closed and self.sequence == 1 and self.topic_id is not None


@dataclass(frozen=True)
class AttemptChange:
    before: AttemptScore
    points: Decimal
    percent: Decimal | None
    passed: bool | None

    @property
    def percent_changed(self) -> bool:
        return self.percent != self.before.percent

    @property
    def pass_flipped(self) -> bool:
        return self.passed != self.before.passed


def attempt_changes(
    attempts: Iterable[AttemptScore], changes: Iterable[PointsChange]
) -> list[AttemptChange]:
    """Each attempt whose points move, scored again. An attempt under way only has its
    points moved (it is scored when it ends); a closed one also its percent, and its pass
    at the quiz's pass mark when the percent changed."""
    delta: dict[int, Decimal] = defaultdict(Decimal)
    for change in changes:
        delta[change.attempt_id] += change.after - change.before
    result = []
    for attempt in attempts:
        if not delta.get(attempt.id):
            continue
        points = attempt.points + delta[attempt.id]
        if not attempt.closed:
            result.append(AttemptChange(attempt, points, attempt.percent, attempt.passed))
            continue
        percent = scoring.attempt_percent([points], attempt.question_total)
        passed = (
            scoring.has_passed(percent, attempt.pass_mark)
            if percent != attempt.percent
            else attempt.passed
        )
        result.append(AttemptChange(attempt, points, percent, passed))
    return result


@dataclass(frozen=True)
class TopicOutcome:
    best_percent: Decimal | None
    mastery: MasteryState


def replay_topic(scores: Sequence[tuple[Decimal, date]]) -> TopicOutcome:
    """A topic's best score and mastery after these finished quiz attempts, in order."""
    state = MasteryState(Mastery.NOT_STARTED)
    best: Decimal | None = None
    for percent, on in scores:
        state = mastery_after_attempt(state, percent, on)
        best = percent if best is None else max(best, percent)
    return TopicOutcome(best, state)


def regrade_note(response: Response) -> str:
    """What a learner's review says about a regraded answer, or "" if it was not."""
    if response.regraded_at is None or response.original_points is None:
        return ""
    day = formats.date_format(timezone.localtime(response.regraded_at), "j F Y")
    now, was = _number(response.points), _number(response.original_points)
    return f"Regraded on {day}: your answer now earns {now} of 1 point (was {was})."


# -- the dry run ----------------------------------------------------------------------------


class RegradeRefused(Exception):
    """A regrade that cannot be applied; the message is shown to the teacher."""


@dataclass(frozen=True)
class VersionSummary:
    """The responses to one version of the question that a regrade checks."""

    version: QuestionVersion
    responses: int
    gained: int  # answers that earn more than before
    lost: int  # answers that earn less
    points_before: Decimal
    points_after: Decimal

    @property
    def changed(self) -> int:
        return self.gained + self.lost


@dataclass(frozen=True)
class RegradePlan:
    question: Question
    digest: str  # the question as it stands, so a confirm can tell it changed since
    stale: tuple[tuple[int, int | None], ...]  # (version, graded_version) pairs to regrade
    checked: int
    skipped: int
    changes: tuple[PointsChange, ...] = ()
    versions: tuple[VersionSummary, ...] = ()
    attempts: tuple[AttemptChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.checked

    @property
    def token(self) -> str:
        """Names this plan: the same question and the same changes give the same token."""
        changes = [[c.response_id, str(c.before), str(c.after)] for c in self.changes]
        text = json.dumps([self.digest, self.checked, changes])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def percents_changed(self) -> int:
        return sum(change.percent_changed for change in self.attempts)

    @property
    def passes_flipped(self) -> int:
        return sum(change.pass_flipped for change in self.attempts)

    @property
    def learners(self) -> int:
        return len({change.before.learner_id for change in self.attempts})

    def stale_responses(self) -> Q:
        """The responses this plan regrades (to filter the question's responses)."""
        match = Q(pk__in=[])
        for version_id, graded_id in self.stale:
            graded = Q(graded_version_id=graded_id) if graded_id else Q(graded_version=None)
            match |= Q(version_id=version_id) & graded
        return match


def _stale_pairs(
    question: Question, key: QuestionKey
) -> tuple[list[tuple[int, int | None]], int, int, dict[int, QuestionVersion]]:
    """The (version asked, version graded by) pairs of the question's responses that
    today's key grades differently; how many responses they hold; how many are skipped
    (answered when the question was of another type); and the versions: two queries."""
    groups = list(
        Response.objects.filter(question=question)
        .values_list("version_id", "graded_version_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    ids = {version_id for version_id, _, _ in groups}
    ids |= {graded_id for _, graded_id, _ in groups if graded_id is not None}
    versions = QuestionVersion.objects.in_bulk(ids) if ids else {}
    stale: list[tuple[int, int | None]] = []
    checked = skipped = 0
    for version_id, graded_id, count in groups:
        asked = versions[version_id].snapshot
        graded = key_from_snapshot(versions[graded_id or version_id].snapshot)
        if len({asked["type"], graded.type, key.type}) > 1:  # answered as another type
            skipped += count
            continue
        if grading_terms(key_as_asked(asked, graded)) != grading_terms(key_as_asked(asked, key)):
            stale.append((version_id, graded_id))
            checked += count
    return stale, checked, skipped, versions


def needs_regrade(question: Question) -> bool:
    """Whether some past answers were graded by another key than today's (two queries,
    plus the question's choices and topic unless loaded)."""
    key = key_from_snapshot(snapshot_question(question))
    return bool(_stale_pairs(question, key)[0])


def plan_regrade(*, question: Question, for_update: bool = False) -> RegradePlan:
    """What regrading the question's past answers against its key of today would change;
    writes nothing. Four queries (two when nothing is to regrade), plus the question's
    choices and topic unless loaded."""
    snapshot = snapshot_question(question)
    key = key_from_snapshot(snapshot)
    stale, checked, skipped, versions = _stale_pairs(question, key)
    plan = RegradePlan(question, snapshot_digest(snapshot), tuple(stale), checked, skipped)
    if not stale:
        return plan
    responses = Response.objects.filter(question=question).filter(plan.stale_responses())
    rows = list(responses.values_list("id", "attempt_id", "version_id", "answer", "points"))
    past = [
        PastResponse(id, attempt_id, version_id, versions[version_id].snapshot, answer, points)
        for id, attempt_id, version_id, answer, points in rows
    ]
    changes = points_changes(past, key)
    attempts = Attempt.objects.filter(pk__in=responses.values("attempt_id")).select_related(
        "learner", "quiz__topic"
    )
    if for_update:
        attempts = attempts.select_for_update(of=("self",))
    scores = [_score(attempt) for attempt in attempts.order_by("finished_at", "id")]
    return replace(
        plan,
        changes=tuple(changes),
        versions=tuple(_by_version(past, changes, versions)),
        attempts=tuple(attempt_changes(scores, changes)),
    )


def _score(attempt: Attempt) -> AttemptScore:
    return AttemptScore(
        id=attempt.pk,
        learner_id=attempt.learner_id,
        topic_id=attempt.quiz.topic_id if attempt.quiz.kind == QuizKind.TOPIC else None,
        sequence=attempt.sequence,
        closed=attempt.is_finished,
        points=attempt.points,
        percent=attempt.percent,
        passed=attempt.passed,
        question_total=attempt.question_total,
        pass_mark=attempt.quiz.pass_mark,
        learner=attempt.learner.get_username(),
        quiz=attempt.quiz.title,
        finished_at=attempt.finished_at,
    )


def _by_version(
    past: list[PastResponse],
    changes: list[PointsChange],
    versions: dict[int, QuestionVersion],
) -> list[VersionSummary]:
    after = {change.response_id: change.after for change in changes}
    summaries = []
    for version_id in sorted({response.version_id for response in past}):
        mine = [response for response in past if response.version_id == version_id]
        summaries.append(
            VersionSummary(
                version=versions[version_id],
                responses=len(mine),
                gained=sum(after.get(r.id, r.points) > r.points for r in mine),
                lost=sum(after.get(r.id, r.points) < r.points for r in mine),
                points_before=sum((response.points for response in mine), ZERO),
                points_after=sum((after.get(r.id, r.points) for r in mine), ZERO),
            )
        )
    return summaries


# -- applying it ----------------------------------------------------------------------------


@transaction.atomic
def apply_regrade(*, question: Question, teacher: User, token: str) -> Regrade:
    """Apply the dry run named by `token`, all at once: responses, attempts, best scores
    and mastery, item statistics, and the record of who did it. Refused when the question
    or its answers changed since that dry run. A fixed number of queries, however many
    responses (bulk updates, one statement per table)."""
    question = (
        Question.objects.select_for_update(of=("self",))
        .select_related("topic")
        .prefetch_related("choices")
        .get(pk=question.pk)
    )
    plan = plan_regrade(question=question, for_update=True)
    if plan.token != token:
        raise RegradeRefused(
            "The question or its past answers changed since that dry run, so nothing was "
            "regraded. Here is the dry run as things stand now."
        )
    if plan.is_empty:
        raise RegradeRefused("Every past answer is already graded by today's answer key.")
    version = question_version(question)
    now = timezone.now()
    responses = Response.objects.filter(question=question).filter(plan.stale_responses())
    responses.update(graded_version=version)
    Response.objects.bulk_update(
        [
            Response(
                pk=change.response_id,
                points=change.after,
                original_points=Coalesce(F("original_points"), Value(change.before)),
                regraded_at=now,
            )
            for change in plan.changes
        ],
        ["points", "original_points", "regraded_at"],
    )
    _replay_progress(plan.attempts)
    Attempt.objects.bulk_update(
        [
            Attempt(pk=c.before.id, points=c.points, percent=c.percent, passed=c.passed)
            for c in plan.attempts
        ],
        ["points", "percent", "passed"],
    )
    page_cache.bump_learners({change.before.learner_id for change in plan.attempts})
    grades.resend_after_regrade(
        change.before.id for change in plan.attempts if change.percent_changed
    )
    first_attempts = [c.before.id for c in plan.attempts if c.before.counts_in_item_statistics]
    if first_attempts:
        insight.rebuild_question_statistics(attempt_ids=first_attempts)
    return Regrade.objects.create(
        question=question,
        version=version,
        teacher=teacher,
        responses_checked=plan.checked,
        responses_changed=len(plan.changes),
        attempts_changed=len(plan.attempts),
        passes_flipped=plan.passes_flipped,
    )


def _replay_progress(changes: Sequence[AttemptChange]) -> None:
    """Best scores and mastery of each learner and topic whose quiz scores moved, from
    their finished attempts at the topic's quiz in order (read before the attempts are
    updated): two queries and one bulk update."""
    pairs = {
        (change.before.learner_id, change.before.topic_id)
        for change in changes
        if change.before.topic_id is not None and change.before.closed and change.percent_changed
    }
    if not pairs:
        return
    new_percent = {change.before.id: change.percent for change in changes}
    learner_ids = {learner_id for learner_id, _ in pairs}
    topic_ids = {topic_id for _, topic_id in pairs}
    history: dict[tuple[int, int], list[tuple[Decimal, Decimal, date]]] = defaultdict(list)
    rows = (
        Attempt.objects.filter(
            learner_id__in=learner_ids,
            quiz__kind=QuizKind.TOPIC,
            quiz__topic_id__in=topic_ids,
            state__in=AttemptState.closed(),
        )
        .order_by("finished_at", "id")
        .values_list("id", "learner_id", "quiz__topic_id", "percent", "finished_at")
    )
    for attempt_id, learner_id, topic_id, percent, finished_at in rows:
        if (learner_id, topic_id) in pairs and percent is not None and finished_at is not None:
            regraded = new_percent.get(attempt_id)
            new = percent if regraded is None else regraded
            history[learner_id, topic_id].append((percent, new, timezone.localdate(finished_at)))
    progresses = TopicProgress.objects.select_for_update().filter(
        learner_id__in=learner_ids, topic_id__in=topic_ids
    )
    updated = []
    reached_completion_level = set()
    for progress in progresses:
        scores = history.get((progress.learner_id, progress.topic_id))
        if not scores:
            continue
        before = replay_topic([(old, on) for old, _, on in scores])
        after = replay_topic([(new, on) for _, new, on in scores])
        progress.best_percent = after.best_percent
        if before.mastery != after.mastery:
            progress.mastery = after.mastery.level
            progress.high_score_on = after.mastery.high_score_on
            if before.mastery.level < COMPLETION_LEVEL <= after.mastery.level:
                reached_completion_level.add(progress.learner_id)
        updated.append(progress)
    TopicProgress.objects.bulk_update(updated, ["best_percent", "mastery", "high_score_on"])
    # Imported here: services -> selectors -> this module would be a cycle.
    from learning.services import award_certificates_if_complete

    if reached_completion_level:
        award_certificates_if_complete(learner_ids=reached_completion_level)
