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
        elif question.type == QuestionType.SHORT_ANSWER:
            self.fields["text"] = forms.CharField(
                label="Your answer",
                max_length=500,
                error_messages={
                    "required": "Type an answer.",
                    "max_length": "Keep the answer under 500 characters.",
                },
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
        elif question.type == QuestionType.MATCHING:
            options = sorted({c.match_text for c in choices if c.match_text}, key=str.casefold)
            for choice in choices:
                if not choice.match_text:
                    continue
                self.fields[f"match-{choice.id}"] = forms.ChoiceField(
                    label=choice.text,
                    choices=[("", "Choose a match…"), *((o, o) for o in options)],
                    error_messages={
                        "required": "Choose a match for this item.",
                        "invalid_choice": "Choose one of the matches offered.",
                    },
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

    @property
    def match_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("match-")]

    @property
    def answer_errors(self) -> list[str]:
        return [
            str(error)
            for name, errors in self.errors.items()
            if name != "question"
            for error in errors
        ]

    def to_answer(self) -> scoring.Answer:
        if self.question.type == QuestionType.NUMERIC:
            value: Decimal = self.cleaned_data["value"]
            return scoring.NumericAnswer(value)
        if self.question.type == QuestionType.SHORT_ANSWER:
            return scoring.TextAnswer(self.cleaned_data["text"])
        if self.question.type == QuestionType.MATCHING:
            return scoring.MatchingAnswer(
                tuple(
                    (int(name.removeprefix("match-")), value)
                    for name, value in sorted(self.cleaned_data.items())
                    if name.startswith("match-")
                )
            )
        picked = self.cleaned_data["choice"]
        ids = picked if isinstance(picked, list) else [picked]
        return scoring.ChoiceAnswer(frozenset(int(i) for i in ids))


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
