"""The header of a launched learner's pages, as the browser journey inside the LMS's frame
met it (tests/browser/test_lti_journey.py): a screen reader heard "Log out lti-1"."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import UserFactory
from tests.lti_platform import FakePlatform

pytestmark = pytest.mark.django_db(transaction=True)

LOG_OUT = 'Log out <span class="visually-hidden">{}</span>'


def test_the_log_out_button_names_the_launched_person_not_their_made_up_username(
    lti_platform: FakePlatform, client
):
    registration = lti_platform.register()
    lti_platform.launch(client, registration, name="Ada Lovelace")
    username = User.objects.get(lti_users__sub="learner-1").username
    page = client.get(reverse("learning:glossary"))
    assertContains(page, LOG_OUT.format("Ada Lovelace"), html=False)
    assertNotContains(page, username)


def test_without_a_name_it_is_the_username(client):
    client.force_login(UserFactory.create(username="grace", first_name="", last_name=""))
    page = client.get(reverse("learning:glossary"))
    assertContains(page, LOG_OUT.format("grace"), html=False)
