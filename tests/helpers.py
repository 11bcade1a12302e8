"""Small helpers the view tests share: build a POST that answers a question."""

from learning import question_types
from learning.models import Question
from learning.versions import current_key


def answer_post(question: Question, right: bool) -> dict[str, object]:
    """The form a learner posts to answer `question` right (or earning nothing)."""
    question_type = question_types.get(question.type)
    answer = question_type.sample_answer(current_key(question), right=right)
    return {"question": question.pk, **question_type.form_data(answer)}


HTMX = {"HTTP_HX_REQUEST": "true"}
