"""Small helpers the view tests share: build a POST that answers a question."""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from learning import question_types, selectors
from learning.models import Attempt, Question
from learning.versions import current_key, shown_version_token, snapshot_digest, snapshot_question


def answer_post(
    question: Question, right: bool, attempt: Attempt | None = None
) -> dict[str, object]:
    """The form a learner posts to answer `question` right (or earning nothing) in
    `attempt`, with the option codes and the version token that attempt's page shows;
    without an attempt, as in a teacher's preview."""
    question_type = question_types.get(question.type)
    answer = question_type.sample_answer(current_key(question), right=right)
    choices = question.choices.all()
    codes = (
        selectors.attempt_option_codes(attempt, question, choices)
        if attempt is not None
        else selectors.preview_option_codes(question, choices)
    )
    data: dict[str, object] = {"question": question.pk, **question_type.form_data(answer, codes)}
    if attempt is not None:
        digest = snapshot_digest(snapshot_question(question))
        data["version"] = shown_version_token(attempt.pk, question.pk, digest)
    return data


HTMX = {"HTTP_HX_REQUEST": "true"}


def empty_this_runs_cache() -> None:
    """Empty the cache of what this run of the tests stored in it. On Redis, only the keys
    under this run's prefix (conftest gives each process its own): another run, or another
    worker of this one, may share the database, and a FLUSHDB would empty theirs too."""
    default = caches["default"]
    if not isinstance(default, RedisCache):
        default.clear()  # each process's own memory
        return
    client = default._cache.get_client(write=True)
    ours = list(client.scan_iter(match=default.make_key("*"), count=1000))
    if ours:
        client.delete(*ours)
