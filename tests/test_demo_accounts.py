"""The demo accounts whose passwords the README publishes never open a production site."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from learning import insight, question_types, services
from learning.models import Attempt, Classroom
from learning.versions import current_key
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_accounts(settings) -> None:
    settings.DEBUG = True  # as `make run` makes them
    call_command("create_demo_accounts")
    settings.DEBUG = False  # and now the same database is served in production mode


def deploy_check() -> None:
    """`make serve`'s check, which stops the production start on any error. Only the
    security checks: the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE, set for the whole test
    session, would trip Django's async check here."""
    call_command("check", "--deploy", "--fail-level", "ERROR", "--tag", "security")


def test_it_stops_the_deploy_check_while_demo_accounts_have_their_published_passwords(
    demo_accounts,
):
    with pytest.raises(SystemCheckError) as stopped:
        deploy_check()
    message = str(stopped.value)
    assert "learning.E001" in message
    assert "student, teacher" in message
    assert "python manage.py remove_demo_accounts" in message


def test_it_passes_after_the_demo_accounts_are_removed(demo_accounts, client, capsys):
    call_command("remove_demo_accounts")
    assert "Deleted the demo accounts: student, teacher." in capsys.readouterr().out
    deploy_check()
    assert not get_user_model().objects.filter(username__in=["student", "teacher"]).exists()
    response = client.post(
        reverse("login"), {"username": "teacher", "password": "teach-muscles-2026"}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_it_lets_a_demo_username_with_a_password_of_its_own_through(settings, capsys):
    settings.DEBUG = False
    UserFactory(username="teacher", is_staff=True)  # a real teacher who chose the name
    deploy_check()
    call_command("remove_demo_accounts")
    assert "nothing to remove" in capsys.readouterr().out
    assert get_user_model().objects.get(username="teacher").check_password(PASSWORD)


def test_it_catches_one_demo_account_left_with_its_published_password(demo_accounts):
    teacher = get_user_model().objects.get(username="teacher")
    teacher.set_password("a-password-of-her-own-2026")
    teacher.save(update_fields=["password"])
    with pytest.raises(SystemCheckError, match=r"in this database: student\."):
        deploy_check()


def test_it_deletes_the_demo_learners_attempts_and_says_so(demo_accounts, quiz, capsys):
    student = get_user_model().objects.get(username="student")
    attempt = services.start_attempt(learner=student, quiz=quiz)
    for question in quiz.topic.questions.all():
        answer = question_types.get(question.type).sample_answer(current_key(question))
        services.record_answer(attempt=attempt, question_id=question.pk, answer=answer)
    assert {stats.responses for stats in insight.item_analysis(quiz.topic)} == {1}

    call_command("remove_demo_accounts")

    out = capsys.readouterr().out
    assert "their 1 quiz attempt(s)" in out and "demo data" in out
    assert not Attempt.objects.exists()
    # the teachers' item analysis no longer counts the demo student's answers
    assert {stats.responses for stats in insight.item_analysis(quiz.topic)} == {0}


def test_it_names_the_classes_the_demo_teacher_taught_alone(demo_accounts, capsys):
    demo_teacher = get_user_model().objects.get(username="teacher")
    alone = Classroom.objects.create(name="Year 9 biology")
    alone.teachers.add(demo_teacher)
    shared = Classroom.objects.create(name="Shared class")
    shared.teachers.add(demo_teacher, UserFactory.create(username="mr-real", is_staff=True))
    call_command("remove_demo_accounts")
    output = capsys.readouterr().out
    assert "now have no teacher: Year 9 biology." in output
    assert "Shared class" not in output
    assert Classroom.objects.filter(name="Year 9 biology").exists()
