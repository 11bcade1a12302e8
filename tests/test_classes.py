import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning.models import Classroom, Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def classroom(teacher):
    classroom = Classroom.objects.create(name="Year 10 Biology")
    classroom.teachers.add(teacher)
    return classroom


class TestJoining:
    """The class-code form sits on the dashboard and posts back to it."""

    def test_a_student_joins_with_the_code_however_it_is_typed(
        self, learner_client, learner, classroom
    ):
        typed = f" {classroom.display_code.lower()} "
        response = learner_client.post(reverse("learning:dashboard"), {"code": typed})
        assertRedirects(response, reverse("learning:dashboard"), fetch_redirect_response=False)
        assert Membership.objects.filter(classroom=classroom, learner=learner).exists()
        dashboard = learner_client.get(reverse("learning:dashboard"))
        assertContains(dashboard, "You joined the class “Year 10 Biology”.")
        assertContains(dashboard, "<li>Year 10 Biology</li>", html=True)

    def test_joining_twice_keeps_one_membership(self, learner_client, classroom):
        learner_client.post(reverse("learning:dashboard"), {"code": classroom.join_code})
        response = learner_client.post(
            reverse("learning:dashboard"), {"code": classroom.join_code}, follow=True
        )
        assertContains(response, "already in the class")
        assert Membership.objects.count() == 1

    @pytest.mark.parametrize("code", ["", "NOPE-NOPE", "x" * 40])
    def test_a_wrong_code_is_a_form_error_and_joins_nothing(self, learner_client, classroom, code):
        response = learner_client.post(reverse("learning:dashboard"), {"code": code})
        assert response.status_code == 400
        assert b"field-error" in response.content
        assert not Membership.objects.exists()

    def test_a_wrong_code_is_answered_on_the_dashboards_own_address(
        self, learner_client, classroom
    ):
        dashboard = reverse("learning:dashboard")
        form_page = learner_client.get(dashboard)
        assertContains(form_page, f'<form method="post" action="{dashboard}" class="join-form"')
        # Following the form as a browser does: the refusal is the page at that address,
        # and loading that address again shows the dashboard.
        response = learner_client.post(dashboard, {"code": "NOPE-NOPE"}, follow=True)
        assert response.redirect_chain == []
        assert response.request["PATH_INFO"] == dashboard
        assertContains(response, "Your progress, ada", status_code=400)
        assertContains(response, 'aria-invalid="true"', status_code=400)
        # The refused code has focus, so the browser scrolls to it and its error, far
        # down the dashboard; a dashboard without an error takes no focus.
        assertContains(response, 'aria-invalid="true" autofocus>', status_code=400)
        again = learner_client.get(dashboard)
        assert again.status_code == 200
        assertNotContains(again, "autofocus")

    def test_the_forms_old_address_hands_the_post_on_to_the_dashboard(
        self, learner_client, learner, classroom
    ):
        response = learner_client.post(reverse("learning:join_class"), {"code": "NOPE-NOPE"})
        assert response.status_code == 307
        assert response["Location"] == reverse("learning:dashboard")
        response = learner_client.post(
            reverse("learning:join_class"), {"code": classroom.join_code}, follow=True
        )
        assert response.redirect_chain[-1][0] == reverse("learning:dashboard")
        assertContains(response, "You joined the class “Year 10 Biology”.")
        assert Membership.objects.filter(classroom=classroom, learner=learner).exists()

    def test_the_old_address_is_post_only(self, learner_client, classroom):
        assert learner_client.get(reverse("learning:join_class")).status_code == 405

    def test_joining_needs_an_account(self, client, classroom):
        response = client.post(reverse("learning:dashboard"), {"code": classroom.join_code})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert not Membership.objects.exists()


class TestTeachersClasses:
    def test_a_teacher_creates_a_class_and_gets_a_code(self, client, teacher):
        client.force_login(teacher)
        data = {
            "name": "Year 11",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        }
        response = client.post(reverse("admin:learning_classroom_add"), data)
        assert response.status_code == 302, response.content.decode()[:500]
        classroom = Classroom.objects.get(name="Year 11")
        assert len(classroom.join_code) == 8
        assert list(classroom.teachers.all()) == [teacher]

    def test_a_teacher_sees_only_the_classes_they_teach(self, client, teacher, classroom):
        Classroom.objects.create(name="Someone else's class")
        client.force_login(teacher)
        response = client.get(reverse("admin:learning_classroom_changelist"))
        assertContains(response, "Year 10 Biology")
        assertContains(response, classroom.display_code)
        assertNotContains(response, "Someone else")

    def test_new_codes_replace_old_ones(self, client, teacher, classroom):
        old = classroom.join_code
        client.force_login(teacher)
        client.post(
            reverse("admin:learning_classroom_changelist"),
            {"action": "new_join_codes", "_selected_action": [classroom.pk]},
        )
        classroom.refresh_from_db()
        assert classroom.join_code != old

    def test_a_student_cannot_reach_the_class_admin(self, learner_client, classroom):
        response = learner_client.get(reverse("admin:learning_classroom_changelist"))
        assert response.status_code == 302
