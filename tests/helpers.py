"""Small helpers the view tests share: build a POST that answers a question."""

from decimal import Decimal

from learning.models import Question, QuestionType


def answer_post(question: Question, right: bool) -> dict[str, object]:
    data: dict[str, object] = {"question": question.pk}
    if question.type == QuestionType.NUMERIC:
        value = question.numeric_answer if right else question.numeric_answer + Decimal(100)
        data["value"] = str(value)
        return data
    choices = list(question.choices.all())
    if question.type == QuestionType.SHORT_ANSWER:
        best = max(choices, key=lambda c: c.credit)
        data["text"] = f"  {best.text.upper()} " if right else "something else"
        return data
    if question.type == QuestionType.MATCHING:
        matches = [c.match_text for c in choices]
        for index, choice in enumerate(choices):
            wrong = matches[(index + 1) % len(matches)]
            data[f"match-{choice.pk}"] = choice.match_text if right else wrong
        return data
    wanted = [c.pk for c in choices if c.is_correct == right]
    data["choice"] = wanted if question.type == QuestionType.MULTIPLE else wanted[0]
    return data


HTMX = {"HTTP_HX_REQUEST": "true"}
