"""Error pages a learner meets with debug off: in the site's look, with a way back."""

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug_off(settings):
    settings.DEBUG = False


def test_an_unknown_address_is_a_404_in_the_sites_look(client, debug_off):
    response = client.get("/certificates/aaaaaaaaaaaaaaaaaaaa/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert 'class="site-header"' in page and 'aria-label="Main"' in page
    assert 'href="/">Go to the course</a>' in page


def test_a_form_sent_without_its_token_says_so_and_changes_nothing(learner, debug_off):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    response = client.post("/dashboard/", {"code": "ABC123"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page
    assert "DEBUG=True" not in page
    assert learner.memberships.count() == 0


@override_settings(ROOT_URLCONF="tests.failing_urls")
def test_a_server_error_is_a_plain_page_that_leaks_nothing(debug_off):
    client = Client(raise_request_exception=False)
    response = client.get("/fail")
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Something went wrong</h1>" in page
    assert "failed on purpose" not in page and "Traceback" not in page
