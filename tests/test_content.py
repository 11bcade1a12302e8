"""The course itself: what the fixtures hold, and how load_content treats them."""

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from learning import question_types, services
from learning.content import read_course
from learning.models import Choice, Lesson, Question, Quiz, Response, Topic
from learning.question_bank import authoring_errors
from learning.rendering import DIAGRAM_DIRECTIVE_LINE
from learning.versions import current_key

pytestmark = pytest.mark.django_db

FIXTURES = settings.COURSE_CONTENT_DIR
ARTICLE = Path(settings.BASE_DIR).parent / "shared" / "content" / "muscle-spasms-article.txt"
TOPIC_ORDER = [
    "how-muscles-work",
    "kinds-of-muscle",
    "spasm-or-cramp",
    "kinds-of-spasm",
    "causes",
    "the-brain",
    "medical-conditions",
    "heat",
    "signs-and-symptoms",
    "who-is-at-risk",
    "diagnosis-and-treatment",
]


@pytest.fixture
def course(django_db_blocker):
    call_command("load_content", verbosity=0)


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in (Topic, Lesson, Quiz, Question, Choice)
    }


def test_the_course_has_the_eleven_topics_in_order(course):
    assert list(Topic.objects.values_list("slug", flat=True)) == TOPIC_ORDER
    assert Lesson.objects.count() == Quiz.objects.filter(kind="topic").count() == 11


@pytest.fixture(scope="module")
def source():
    return read_course(FIXTURES)


@pytest.mark.parametrize("slug", TOPIC_ORDER)
def test_each_lesson_is_400_to_900_words_in_anchored_sections(source, slug):
    lesson = next(lesson for lesson in source.lessons if lesson.slug == slug)
    # A diagram's directive line is not reading matter.
    text = DIAGRAM_DIRECTIVE_LINE.sub("", lesson.body)
    words = len(re.findall(r"[A-Za-z0-9'’-]+", text))
    assert 400 <= words <= 900, f"{slug}: {words} words"
    headings = re.findall(r"^#{2,3} .*$", lesson.body, flags=re.MULTILINE)
    assert len(headings) >= 3
    for heading in headings:
        assert re.search(r"\{#[a-z0-9-]+\}\s*$", heading), (
            f"{slug}: no stable anchor on {heading!r}"
        )
    assert len(lesson.anchors) == len(headings)


@pytest.mark.parametrize("slug", TOPIC_ORDER)
def test_each_topic_has_a_dozen_answerable_questions_of_every_type(source, slug):
    questions = [question for _, question in source.questions if question.category == slug]
    assert len(questions) >= 12
    assert {q.kind for q in questions} >= {"single", "multiple", "true_false", "numeric"}
    anchors = next(lesson for lesson in source.lessons if lesson.slug == slug).anchors
    for question in questions:
        assert authoring_errors(question) == [], question.title
        assert question.general_feedback.strip(), question.title
        assert question.metadata.get("anchor") in anchors, question.title


def test_once_loaded_each_topic_has_a_lesson_and_a_dozen_published_questions(course):
    for topic in Topic.objects.all():
        assert Lesson.objects.filter(topic=topic).exists()
        assert "</h2>" in topic.lesson.body_html
        assert topic.questions.filter(is_published=True).count() >= 12, topic.slug


def test_every_question_can_be_answered_right_through_the_service(course, learner):
    for quiz in Quiz.objects.filter(kind="topic").select_related("topic"):
        quiz.question_count = 100
        attempt = services.start_attempt(learner=learner, quiz=quiz)
        for question in Question.objects.filter(pk__in=attempt.question_ids).prefetch_related(
            "choices"
        ):
            answer = question_types.get(question.type).sample_answer(current_key(question))
            services.record_answer(attempt=attempt, question_id=question.pk, answer=answer)
        attempt.refresh_from_db()
        assert attempt.percent == 100, quiz.topic.slug


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


@pytest.mark.skipif(not ARTICLE.exists(), reason="the source article is kept outside the repo")
def test_no_sentence_of_the_article_is_copied():
    article = _words(ARTICLE.read_text(encoding="utf-8"))
    run = 10
    article_runs = {tuple(article[i : i + run]) for i in range(len(article) - run + 1)}
    for path in sorted([*FIXTURES.glob("*/*"), *FIXTURES.glob("*.yaml")]):
        ours = _words(path.read_text(encoding="utf-8"))
        copied = [
            " ".join(ours[i : i + run])
            for i in range(len(ours) - run + 1)
            if tuple(ours[i : i + run]) in article_runs
        ]
        assert not copied, f"{path.name} copies the article: {copied[:3]}"


def test_the_article_errors_are_corrected():
    medical = (FIXTURES / "lessons" / "07-medical-conditions.md").read_text(encoding="utf-8")
    assert "red blood cells" in medical
    assert not re.search(r"every cell[^.]*contains[^.]*ha?emoglobin", medical, re.IGNORECASE)
    assert re.search(r"insulin[^.]*take[^.]*glucose|glucose[^.]*insulin", medical, re.IGNORECASE)


def test_loading_twice_changes_nothing(course):
    before = counts()
    call_command("load_content", verbosity=0)
    assert counts() == before


def test_reloading_keeps_learner_answers_and_unpublishes_removed_questions(
    course, learner, tmp_path
):
    quiz = Quiz.objects.get(topic__slug="heat")
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    answered = Question.objects.get(pk=attempt.question_ids[0])
    choice_ids = set(answered.choices.values_list("id", flat=True))
    answer = question_types.get(answered.type).sample_answer(current_key(answered))
    services.record_answer(attempt=attempt, question_id=answered.pk, answer=answer)

    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    gift_path = copy / "questions" / "08-heat.gift"
    text = gift_path.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    kept = [block for block in blocks if f"::{answered.key}::" not in block]
    assert len(kept) == len(blocks) - 1
    gift_path.write_text("\n\n".join(kept), encoding="utf-8")

    call_command("load_content", dir=copy, verbosity=0)

    answered.refresh_from_db()
    assert answered.is_published is False
    assert Response.objects.filter(question=answered).count() == 1
    assert set(answered.choices.values_list("id", flat=True)) == choice_ids
    call_command("load_content", verbosity=0)
    answered.refresh_from_db()
    assert answered.is_published is True


def test_a_broken_course_changes_nothing_and_names_the_line(course, tmp_path):
    before = counts()
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    path = copy / "questions" / "01-how-muscles-work.gift"
    path.write_text(
        path.read_text(encoding="utf-8") + "\n\n::broken:: Which one? {=a =b ~c\n",
        encoding="utf-8",
    )
    (copy / "lessons" / "01-how-muscles-work.md").write_text(
        (FIXTURES / "lessons" / "01-how-muscles-work.md")
        .read_text(encoding="utf-8")
        .replace("title: How muscles work", "title: Renamed"),
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"01-how-muscles-work.gift:line \d+: the answer block"):
        call_command("load_content", dir=copy, verbosity=0)
    assert counts() == before
    assert Topic.objects.get(slug="how-muscles-work").title == "How muscles work"


def test_read_course_reports_anchors_that_do_not_exist(tmp_path):
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    path = copy / "questions" / "02-kinds-of-muscle.gift"
    text = path.read_text(encoding="utf-8")
    first_anchor = re.search(r"// anchor: (\S+)", text).group(1)
    path.write_text(
        text.replace(f"// anchor: {first_anchor}", "// anchor: no-such-section", 1),
        encoding="utf-8",
    )
    with pytest.raises(Exception, match="no-such-section"):
        read_course(copy)
