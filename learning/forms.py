from decimal import Decimal

from django import forms
from django.contrib.auth.forms import UserCreationForm

from learning import scoring
from learning.models import Choice, Question, QuestionType


class AnswerForm(forms.Form):
    """The answer to one question, shaped by its type; only its own choices are valid."""

    def __init__(self, *args, question: Question, choices: tuple[Choice, ...], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.question = question
        self.fields["question"] = forms.IntegerField(
            widget=forms.HiddenInput,
            initial=question.pk,
            error_messages={
                "required": "The answer did not say which question it is for.",
                "invalid": "The answer did not say which question it is for.",
            },
        )
        options = [(str(choice.id), choice.text) for choice in choices]
        if question.type == QuestionType.NUMERIC:
            self.fields["value"] = forms.DecimalField(
                label="Your answer",
                max_digits=20,
                decimal_places=6,
                error_messages={
                    "required": "Type a number to answer.",
                    "invalid": "Enter a number, such as 12 or 3.5.",
                    "max_digits": "That number is too long.",
                    "max_decimal_places": "Use at most 6 decimal places.",
                    "max_whole_digits": "That number is too large.",
                },
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
        elif question.type == QuestionType.MULTIPLE:
            self.fields["choice"] = forms.MultipleChoiceField(
                label="Choose all that apply",
                choices=options,
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "required": "Pick at least one answer.",
                    "invalid_choice": "That choice does not belong to this question.",
                },
            )
        else:
            self.fields["choice"] = forms.ChoiceField(
                label="Choose one",
                choices=options,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Pick an answer.",
                    "invalid_choice": "That choice does not belong to this question.",
                },
            )

    def clean_question(self) -> int:
        question_id = self.cleaned_data["question"]
        if question_id != self.question.pk:
            raise forms.ValidationError(
                "That question is not the one on this screen of your attempt."
            )
        return question_id

    def clean_choice(self) -> str | list[str]:
        picked = self.cleaned_data["choice"]
        if self.question.type != QuestionType.MULTIPLE and len(self.data.getlist("choice")) > 1:
            raise forms.ValidationError("Pick exactly one answer.")
        return picked

    def to_answer(self) -> scoring.Answer:
        if self.question.type == QuestionType.NUMERIC:
            value: Decimal = self.cleaned_data["value"]
            return scoring.NumericAnswer(value)
        picked = self.cleaned_data["choice"]
        ids = picked if isinstance(picked, list) else [picked]
        return scoring.ChoiceAnswer(frozenset(int(i) for i in ids))


class SignUpForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)
