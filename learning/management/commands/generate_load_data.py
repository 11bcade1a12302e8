"""Fill the database with realistic learners for the benchmark, by bulk inserts.

Each learner starts most topics (reads the lesson, takes the quiz once or twice), answers
right with their own ability, and ends with topic progress and a review card for every
question answered. 10,000 learners make about a million responses.
"""

import random
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from learning import insight, question_types, scoring
from learning.mastery import MasteryState, mastery_after_attempt
from learning.models import (
    Attempt,
    AttemptState,
    Mastery,
    PickedChoice,
    Question,
    QuestionVersion,
    Quiz,
    QuizKind,
    Response,
    ReviewCard,
    TopicProgress,
)
from learning.question_types.base import key_from_snapshot
from learning.versions import question_version

BATCH = 250  # learners per transaction
START_PROBABILITY = 0.8
RETAKE_PROBABILITY = 0.3
DAYS = 90


class Command(BaseCommand):
    help = "Add N realistic learners with attempts, responses and review cards (bulk inserts)."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._samples: dict[tuple[int, bool], tuple[dict, list[int]]] = {}

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--learners", type=int, required=True)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--prefix", default="load", help="Username prefix.")

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["learners"]
        if count < 1:
            raise CommandError("--learners must be at least 1.")
        quizzes = list(
            Quiz.objects.filter(kind=QuizKind.TOPIC)
            .select_related("topic")
            .order_by("topic__order")
        )
        if not quizzes:
            raise CommandError("No course loaded: run `manage.py load_content` first.")
        bank = {
            quiz.pk: list(
                Question.objects.filter(topic=quiz.topic, is_published=True)
                .select_related("topic")
                .prefetch_related("choices")
            )
            for quiz in quizzes
        }
        versions = {
            question.pk: question_version(question)
            for questions in bank.values()
            for question in questions
        }
        rng = random.Random(options["seed"])  # noqa: S311 - repeatable test data, not secrets
        password = make_password("load-test-password")
        first = User.objects.filter(username__startswith=f"{options['prefix']}-").count()
        started = time.monotonic()
        responses_made = 0
        for offset in range(0, count, BATCH):
            size = min(BATCH, count - offset)
            names = [f"{options['prefix']}-{first + offset + i:07d}" for i in range(size)]
            with transaction.atomic():
                learners = User.objects.bulk_create(
                    User(username=name, password=password) for name in names
                )
                responses_made += self._fill(learners, quizzes, bank, versions, rng)
            done = offset + size
            self.stdout.write(
                f"\r{done}/{count} learners, {responses_made} responses, "
                f"{time.monotonic() - started:.0f}s",
                ending="",
            )
            self.stdout.flush()
        self.stdout.write("")
        # Bulk inserts bypass the services: bring the item statistics up to date in one go.
        insight.rebuild_item_statistics()
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {count} learners and {responses_made} responses "
                f"in {time.monotonic() - started:.0f}s."
            )
        )

    def _fill(
        self,
        learners: list[User],
        quizzes: list[Quiz],
        bank: dict[int, list[Question]],
        versions: dict[int, QuestionVersion],
        rng: random.Random,
    ) -> int:
        now = timezone.now()
        attempts: list[Attempt] = []
        # Each attempt with when it finished and its answers (right or not).
        plans: list[tuple[Attempt, datetime, list[tuple[Question, bool]]]] = []
        progress_rows: list[TopicProgress] = []
        cards: dict[tuple[int, int], ReviewCard] = {}
        for learner in learners:
            ability = rng.uniform(0.35, 0.97)
            for quiz in quizzes:
                if rng.random() > START_PROBABILITY:
                    continue
                day = now - timedelta(days=rng.uniform(1, DAYS))
                state = MasteryState(Mastery.NOT_STARTED)
                best = None
                tries = 2 if rng.random() < RETAKE_PROBABILITY else 1
                for sequence in range(1, tries + 1):
                    drawn = rng.sample(
                        bank[quiz.pk], k=min(quiz.question_count, len(bank[quiz.pk]))
                    )
                    answers = [(question, rng.random() < ability) for question in drawn]
                    points = Decimal(sum(right for _, right in answers))
                    percent = scoring.attempt_percent([points], len(drawn))
                    finished = day + timedelta(days=sequence - 1, minutes=8)
                    attempt = Attempt(
                        learner=learner,
                        quiz=quiz,
                        question_ids=[q.pk for q in drawn],
                        choice_orders={},
                        answered_count=len(drawn),
                        state=AttemptState.FINISHED,
                        points=points,
                        percent=percent,
                        passed=scoring.has_passed(percent, quiz.pass_mark),
                        sequence=sequence,
                        finished_at=finished,
                    )
                    attempts.append(attempt)
                    plans.append((attempt, finished, answers))
                    state = mastery_after_attempt(state, percent, finished.date())
                    best = percent if best is None else max(best, percent)
                    for question, right in answers:
                        cards[(learner.pk, question.pk)] = ReviewCard(
                            learner=learner,
                            question=question,
                            state=2,
                            stability=rng.uniform(1, 40) if right else rng.uniform(0.2, 2),
                            difficulty=rng.uniform(3, 8),
                            due=finished + timedelta(days=rng.uniform(0.5, 40) if right else 0.02),
                            last_review=finished,
                            review_count=sequence,
                        )
                progress_rows.append(
                    TopicProgress(
                        learner=learner,
                        topic=quiz.topic,
                        lesson_read_at=day - timedelta(minutes=15),
                        attempt_count=tries,
                        best_percent=best,
                        mastery=state.level,
                        high_score_on=state.high_score_on,
                        last_activity_at=day + timedelta(days=tries - 1, minutes=8),
                    )
                )
        Attempt.objects.bulk_create(attempts)
        responses: list[Response] = []
        chosen: list[list[int]] = []
        for attempt, finished, answers in plans:
            for position, (question, right) in enumerate(answers, start=1):
                answer, picked = self._answer(versions[question.pk], right)
                responses.append(
                    Response(
                        attempt=attempt,
                        question=question,
                        position=position,
                        answer=answer,
                        points=Decimal(1) if right else Decimal(0),
                        version=versions[question.pk],
                        answered_at=finished - timedelta(minutes=10 - position),
                    )
                )
                chosen.append(picked)
        Response.objects.bulk_create(responses, batch_size=2000)
        PickedChoice.objects.bulk_create(
            (
                PickedChoice(response=response, question_id=response.question_id, choice_id=c)
                for response, picked in zip(responses, chosen, strict=True)
                for c in picked
            ),
            batch_size=5000,
        )
        TopicProgress.objects.bulk_create(progress_rows, batch_size=2000)
        ReviewCard.objects.bulk_create(cards.values(), batch_size=5000)
        return len(responses)

    def _answer(self, version: QuestionVersion, right: bool) -> tuple[dict, list[int]]:
        """The stored answer and the picked rows of a sample right (or wrong) answer."""
        cached = self._samples.get((version.pk, right))
        if cached is None:
            question_type = question_types.get(version.snapshot["type"])
            answer = question_type.sample_answer(key_from_snapshot(version.snapshot), right=right)
            cached = (
                question_type.answer_to_json(answer),
                sorted(question_type.picked_choice_ids(answer)),
            )
            self._samples[(version.pk, right)] = cached
        return cached
