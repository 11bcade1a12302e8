"""Every CSV the site writes opens in a spreadsheet as data, never as a formula."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from learning.csv_export import csv_line
from learning.models import Classroom, Mastery, Membership
from tests.factories import TopicFactory, TopicProgressFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE_NAMES = {
    # what a learner is called -> what the spreadsheet cell holds
    "+A1+A2": "'+A1+A2",
    "@SUM(1)": "'@SUM(1)",
    "=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0",
    "-1+1": "'-1+1",
    "\tx": "'\tx",
    "\r=1+1": "'\r=1+1",
    '=HYPERLINK("http://evil.example","a, b")': '\'=HYPERLINK("http://evil.example","a, b")',
    "ada": "ada",
    "o'brien-smith": "o'brien-smith",
}


@pytest.fixture
def report_rows(teacher_client, teacher) -> dict[str, list[str]]:
    """The progress report's CSV of a class with hostile names in it, by first cell."""
    classroom = Classroom.objects.create(name="Year 10")
    classroom.teachers.add(teacher)
    topic = TopicFactory(title="=1+1 Heat")  # teachers' text goes through the same door
    for name in HOSTILE_NAMES:
        learner = UserFactory.create(username=name)
        Membership.objects.create(classroom=classroom, learner=learner)
        TopicProgressFactory(
            learner=learner,
            topic=topic,
            best_percent=Decimal(85),
            attempt_count=2,
            mastery=Mastery.FAMILIAR,
        )
    url = reverse("admin:learning_progressreport_changelist")
    response = teacher_client.get(url, {"format": "csv", "class": classroom.pk})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return {row[0]: row for row in csv.reader(io.StringIO(text, newline=""))}


def test_it_writes_every_learner_name_that_starts_a_formula_as_text(report_rows):
    assert set(report_rows) - {"learner"} == set(HOSTILE_NAMES.values())


def test_it_keeps_scores_and_counts_numbers(report_rows):
    assert report_rows["'+A1+A2"][3:6] == ["Familiar", "85.00", "2"]
    assert report_rows["ada"][3:6] == ["Familiar", "85.00", "2"]


def test_it_writes_a_topic_title_that_starts_a_formula_as_text(report_rows):
    assert report_rows["learner"][3] == "'=1+1 Heat: mastery"


def test_it_writes_the_sites_own_numbers_as_numbers_even_negative_ones():
    line = csv_line(["-1+1", -5, Decimal("-1.50"), 0.5, 85, None, ""])
    assert line == "'-1+1,-5,-1.50,0.5,85,,\r\n"
