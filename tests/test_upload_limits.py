"""A file over the import limit is refused by its declared size, before anything reads it."""

import io
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from learning.models import Question
from learning.uploads import MAX_IMPORT_BYTES, MAX_REQUEST_BYTES, RequestSizeLimit
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db

FIVE_MB = 5 * 1024 * 1024
QUESTION = b"$CATEGORY: heat\n\n::heat-q:: Is heat felt? {T}\n"


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        raise AssertionError("the request body was read")


def post_declaring(client: Client, url: str, size: int, content_type: str):
    """POST a body said to be `size` bytes long that nothing may read."""
    environ: dict[str, Any] = {"CONTENT_LENGTH": str(size), "wsgi.input": Unreadable()}
    return client.generic("POST", url, data=b"-", content_type=content_type, **environ)


MULTIPART = "multipart/form-data; boundary=BoUnDaRy"


@pytest.fixture
def heat():
    return TopicFactory(slug="heat", title="Heat")


class TestTheImportPage:
    def test_it_refuses_a_large_file_by_its_size_without_reading_it(self, teacher_client):
        url = reverse("admin:learning_question_import")
        response = post_declaring(teacher_client, url, FIVE_MB, MULTIPART)
        assert response.status_code == 413
        assert response.content.decode() == (
            "The file is 5120 KB; the limit is 2048 KB. Nothing was read or imported.\n"
        )
        assert not Question.objects.exists()

    def test_a_file_just_over_the_limit_gets_the_same_words(self, teacher_client, heat):
        upload = SimpleUploadedFile("big.gift", QUESTION + b"/" * MAX_IMPORT_BYTES)
        response = teacher_client.post(
            reverse("admin:learning_question_import"), {"file": upload, "file_format": "gift"}
        )
        assert response.status_code == 400
        assert "The file is 2048 KB; the limit is 2048 KB." in response.content.decode()

    def test_a_file_within_the_limit_is_previewed(self, teacher_client, heat):
        upload = SimpleUploadedFile("ok.gift", QUESTION)
        response = teacher_client.post(
            reverse("admin:learning_question_import"), {"file": upload, "file_format": "gift"}
        )
        assert response.status_code == 200
        assert "1 to create" in response.content.decode()

    def test_it_still_checks_the_csrf_token(self, teacher: User, heat):
        client = Client(enforce_csrf_checks=True)
        client.force_login(teacher)
        upload = SimpleUploadedFile("ok.gift", QUESTION)
        response = client.post(
            reverse("admin:learning_question_import"), {"file": upload, "file_format": "gift"}
        )
        assert response.status_code == 403
        assert not Question.objects.exists()


class TestEveryOtherPage:
    @pytest.mark.parametrize(
        "content_type", [MULTIPART, "application/x-www-form-urlencoded", "application/json"]
    )
    def test_a_large_body_is_refused_unread(self, client, content_type):
        response = post_declaring(client, reverse("login"), FIVE_MB, content_type)
        assert response.status_code == 413
        assert "more than this site takes (2112 KB)" in response.content.decode()

    def test_a_form_body_over_1_mb_is_refused_unread(self, client):
        form = "application/x-www-form-urlencoded"
        response = post_declaring(client, reverse("login"), 1024 * 1024 + 1, form)
        assert response.status_code == 400


class TestTheUploadHandler:
    """It stops a multipart body that is longer than its Content-Length said."""

    def test_it_refuses_a_declared_size_over_the_limit(self):
        handler = RequestSizeLimit()
        with pytest.raises(RequestDataTooBig):
            handler.handle_raw_input(io.BytesIO(), {}, MAX_REQUEST_BYTES + 1, "b")

    def test_it_stops_a_body_that_grows_past_the_limit(self):
        handler = RequestSizeLimit()
        handler.handle_raw_input(io.BytesIO(), {}, 100, "b")
        chunk = b"x" * (64 * 1024)
        with pytest.raises(RequestDataTooBig):
            for start in range(0, MAX_REQUEST_BYTES + len(chunk), len(chunk)):
                assert handler.receive_data_chunk(chunk, start) == chunk


class TestTheImportCommand:
    def test_it_refuses_a_file_over_the_limit(self, heat, tmp_path):
        big = tmp_path / "big.gift"
        big.write_bytes(QUESTION + b"/" * MAX_IMPORT_BYTES)
        with pytest.raises(CommandError, match=r"big.gift is 2048 KB; the limit is 2048 KB"):
            call_command("import_gift", str(big), stdout=StringIO())
        assert not Question.objects.exists()

    def test_max_bytes_sets_the_limit(self, heat, tmp_path):
        small = tmp_path / "small.gift"
        small.write_bytes(QUESTION)
        with pytest.raises(CommandError, match=r"is 46 bytes; the limit is 10 bytes"):
            call_command("import_gift", str(small), max_bytes=10, stdout=StringIO())

    def test_no_size_limit_reads_any_size(self, heat, tmp_path):
        big = tmp_path / "big.gift"
        big.write_bytes(QUESTION + b"/" * MAX_IMPORT_BYTES)
        call_command("import_gift", str(big), no_size_limit=True, stdout=StringIO())
        assert Question.objects.filter(key="heat-q").exists()


def test_a_large_body_elsewhere_is_not_called_a_file(client):
    """An LMS launch (or any other form) declared larger than the site takes is refused
    unread, in words that fit it: no file was asked for (tryout finding)."""
    response = post_declaring(
        client, reverse("lti:launch"), FIVE_MB, "application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response.content.decode() == (
        "What was sent is 5120 KB, more than this site takes (2112 KB). "
        "Nothing was read or saved.\n"
    )
