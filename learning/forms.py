from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm

from learning import question_types
from learning.models import Choice, Question


class AnswerForm(forms.Form):
    """The answer to one question: its type gives the fields; only its own choices are
    valid."""

    def __init__(
        self, *args: Any, question: Question, choices: tuple[Choice, ...], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.question = question
        self.question_type = question_types.get(question.type)
        self.fields["question"] = forms.IntegerField(
            widget=forms.HiddenInput,
            initial=question.pk,
            error_messages={
                "required": "The answer did not say which question it is for.",
                "invalid": "The answer did not say which question it is for.",
            },
        )
        self.fields.update(self.question_type.form_fields(choices))

    @property
    def input_template(self) -> str:
        return self.question_type.input_template

    def clean_question(self) -> int:
        question_id = self.cleaned_data["question"]
        if question_id != self.question.pk:
            raise forms.ValidationError(
                "That question is not the one on this screen of your attempt."
            )
        return question_id

    @property
    def answer_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name != "question"]

    @property
    def answer_errors(self) -> list[str]:
        return [
            str(error)
            for name, errors in self.errors.items()
            if name != "question"
            for error in errors
        ]

    def to_answer(self) -> Any:
        return self.question_type.answer_from_form(self.cleaned_data)


class SignUpForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)


class JoinClassForm(forms.Form):
    code = forms.CharField(
        label="Class code",
        max_length=32,
        help_text="The code your teacher gave you, such as K7QM-2XWP.",
        error_messages={"required": "Type the code your teacher gave you."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
