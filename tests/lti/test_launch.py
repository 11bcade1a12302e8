import pytest
from django.contrib.auth.models import User

from tests.lti_platform import FakePlatform

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_launch_signs_the_learner_in(lti_platform: FakePlatform, client) -> None:
    registration = lti_platform.register()
    response = lti_platform.launch(client, registration)
    assert response.status_code == 302, response.content[:300]
    user = User.objects.get(lti_users__sub="learner-1")
    assert (user.first_name, user.email) == ("Ada", "ada@school.example")
    assert client.get("/").wsgi_request.user == user


def test_the_same_launch_twice_is_refused(lti_platform: FakePlatform, client) -> None:
    registration = lti_platform.register()
    state, nonce = lti_platform.login(client, registration)
    id_token = lti_platform.sign(lti_platform.claims(nonce=nonce))
    assert lti_platform.post_launch(client, id_token, state).status_code == 302
    replay = lti_platform.post_launch(client, id_token, state)
    assert replay.status_code == 403
    assert b"already used" in replay.content
