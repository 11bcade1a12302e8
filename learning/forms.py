from decimal import Decimal

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from learning import scoring
from learning.models import Choice, Lesson, Question, QuestionType, Topic


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


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """Refuse a question no learner could answer right, naming what is missing."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        # A table row has no visible label per input: name each one for screen readers.
        number = index + 1 if index is not None else "new"
        for field in form.fields.values():
            if not field.widget.is_hidden:
                field.widget.attrs["aria-label"] = f"Choice {number}: {field.label}"

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        question: Question = self.instance
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        rows = [
            scoring.ChoiceKey(
                id=index,
                is_correct=bool(data.get("is_correct")),
                text=data.get("text") or "",
                credit=data.get("credit") if data.get("credit") is not None else Decimal(100),
                match_text=data.get("match_text") or "",
                numeric_value=data.get("numeric_value"),
                numeric_tolerance=data.get("numeric_tolerance") or Decimal(0),
            )
            for index, data in enumerate(kept)
        ]
        if question.type == QuestionType.NUMERIC:
            if any(row.numeric_value is None for row in rows):
                raise ValidationError(
                    "A numeric question's extra rows are graded answers: give each a numeric "
                    "value (and a credit), or remove it."
                )
            return
        choice_types = (QuestionType.SINGLE, QuestionType.TRUE_FALSE, QuestionType.MULTIPLE)
        if question.type in choice_types and any(not row.text.strip() for row in rows):
            raise ValidationError("Every choice needs its text.")
        errors = scoring.answerability_errors(
            question.type, [row.is_correct for row in rows], None, rows
        )
        if errors:
            raise ValidationError(errors)


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = (
            "topic",
            "type",
            "prompt",
            "is_published",
            "explanation",
            "lesson_anchor",
            "numeric_answer",
            "numeric_tolerance",
            "key",
        )

    def clean(self) -> dict:
        data = super().clean()
        question_type = data.get("type")
        if question_type == QuestionType.NUMERIC and data.get("numeric_answer") is None:
            self.add_error("numeric_answer", "A numeric question needs a right value.")
        topic, anchor = data.get("topic"), data.get("lesson_anchor")
        if topic and anchor:
            lesson = Lesson.objects.filter(topic=topic).first()
            if lesson is not None and anchor not in lesson.anchors:
                self.add_error(
                    "lesson_anchor",
                    f"“{anchor}” is not a section of the lesson. Its sections are: "
                    + (", ".join(sorted(lesson.anchors)) or "none"),
                )
        return data


MAX_IMPORT_BYTES = 2 * 1024 * 1024


class QuestionImportForm(forms.Form):
    file = forms.FileField(
        label="Question file",
        help_text="A GIFT file (.gift or .txt, as Moodle exports) or an Aiken file, UTF-8.",
    )
    file_format = forms.ChoiceField(
        label="Format", choices=[("gift", "GIFT"), ("aiken", "Aiken")], initial="gift"
    )
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.all(),
        required=False,
        help_text="Put every question in this topic. Leave empty to use each $CATEGORY.",
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            limit = MAX_IMPORT_BYTES // 1024
            raise ValidationError(
                f"The file is {upload.size // 1024} KB; the limit is {limit} KB."
            )
        return upload
