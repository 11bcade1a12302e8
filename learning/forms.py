import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.forms.models import InlineForeignKeyField

from learning import question_types
from learning.models import Choice, FeedbackTiming, Lesson, Question, Quiz, QuizKind, Topic
from learning.question_bank import READERS
from learning.question_types.base import (
    HUNDRED,
    ZERO,
    OptionCodes,
    QuestionType,
    clean_number,
    keys_of_rows,
)
from learning.rendering import field_problems
from learning.uploads import MAX_IMPORT_BYTES, too_large_message

# The status of a refused answer (nothing picked, "abc" for a number...): htmx swaps it into
# the question panel (base.html's htmx-config), and django-htmx's debug handler, which
# replaces the whole page on a 400, 403, 404 or 500, leaves it alone.
ANSWER_REFUSED_STATUS = 422


class AnswerForm(forms.Form):
    """The answer to one question: its type gives the fields; only its own choices are
    valid."""

    def __init__(
        self,
        *args: Any,
        question: Question,
        choices: tuple[Choice, ...],
        codes: OptionCodes,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.question = question
        self.question_type = question_types.get(question.type)
        self.codes = codes
        self.fields["question"] = forms.IntegerField(
            widget=forms.HiddenInput,
            initial=question.pk,
            error_messages={
                "required": "The answer did not say which question it is for.",
                "invalid": "The answer did not say which question it is for.",
            },
        )
        self.fields.update(self.question_type.form_fields(choices, codes))

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
        return self.question_type.answer_from_form(self.cleaned_data, self.codes)


class SignUpForm(UserCreationForm):
    """A username and a password, and a name if the learner gives one: their teachers see
    it beside the username. Kept whole (as written) in User.first_name, so a name is never
    split into parts it does not have."""

    name = forms.CharField(
        label="Your name (optional)",
        max_length=150,
        required=False,
        help_text="Your teachers see it next to your username. Leave it empty if you like.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    # Not unique and never checked against other accounts: "already in use" would tell
    # anyone which addresses have an account here.
    email = forms.EmailField(
        label="Email (optional)",
        max_length=254,
        required=False,
        help_text="Only used to send you a link if you forget your password; "
        "never shown to your teachers or other learners.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The name and e-mail after the username, before the passwords.
        self.order_fields(["username", "name", "email"])

    def clean_username(self) -> str:
        username = super().clean_username()
        # learning/lti/services.py names the accounts LMS launches make so.
        if username and username.lower().startswith("lti-"):
            raise ValidationError(
                "Usernames starting with “lti-” are kept for accounts made by an LMS."
            )
        return username

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data.get("email", "").strip())

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=False)
        user.first_name = self.cleaned_data.get("name", "")
        user.last_name = ""
        user.email = self.cleaned_data.get("email", "")
        if commit:
            user.save()
            self.save_m2m()
        return user


class JoinClassForm(forms.Form):
    code = forms.CharField(
        label="Class code",
        max_length=32,
        help_text="The code your teacher gave you, such as K7QM-2XWP.",
        error_messages={"required": "Type the code your teacher gave you."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


def answer_columns() -> dict[str, dict[str, Any]]:
    """For the admin's answers table, per registered type: the Choice fields its rows use,
    what its rows are, and whether a row is ticked right or wrong (then a new row's credit
    follows the tick)."""
    return {
        registered.value: {
            "fields": list(registered.row_fields),
            "question_fields": list(registered.question_fields),
            "rows": registered.rows_help,
            "ticks": "is_correct" in registered.row_fields,
        }
        for registered in question_types.registered()
    }


class TextAreaField(forms.CharField):
    """Text typed in a textarea, its line breaks stored as LF: browsers send CR LF, and a
    question saved unchanged must stay the same question (the same version, the same
    export)."""

    def to_python(self, value: Any) -> str | None:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n") if text else text


class CompactNumberInput(forms.NumberInput):
    """A stored decimal as a teacher writes it: 100, not 100.00000."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, Decimal):
            return clean_number(value)
        return super().format_value(value)


class ChoiceAdminForm(forms.ModelForm):
    """One row of the admin's answers table.

    A new row of a type whose rows are ticked right or wrong is worth what its tick says
    (100% right, 0% wrong) until the teacher types a credit: a wrong option is never worth
    full marks by accident. The credit's initial value travels with the form
    (`show_hidden_initial`), so "typed" means "differs from what the page showed". Moving
    the tick of an existing row moves its credit too while the credit is still what the old
    tick gave (100 or 0), so re-keying never leaves a wrong option worth full marks. A new
    row of a type without ticks (an accepted short answer, an extra numeric answer) starts
    blank and needs its credit typed; a type whose rows carry no credit (matching) keeps
    the row's own.
    """

    class Meta:
        model = Choice
        fields = (
            "order",
            "text",
            "is_correct",
            "match_text",
            "numeric_value",
            "numeric_tolerance",
            "credit",
            "feedback",
        )
        labels = {
            "text": "Text",
            "credit": "Credit %",
            "numeric_value": "Value",
            "numeric_tolerance": "Tolerance ±",
        }
        widgets = {
            "order": CompactNumberInput,
            "credit": CompactNumberInput,
            "numeric_value": CompactNumberInput,
            "numeric_tolerance": CompactNumberInput,
            "feedback": forms.Textarea(attrs={"rows": 2, "cols": 20}),
        }

    def __init__(
        self, *args: Any, question_type: QuestionType[Any, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        row_fields = (question_type or QuestionType).row_fields
        self.ticks = "is_correct" in row_fields
        self.uses_credit = "credit" in row_fields
        credit = self.fields["credit"]
        credit.required = False
        credit.show_hidden_initial = True
        # Whether this row's credit was left to its tick (not typed) in this save.
        self.credit_from_tick = False
        if self.instance._state.adding:
            self.initial["credit"] = ZERO if self.ticks else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = "credit" in self.changed_data and data.get("credit") is not None
        if not self.uses_credit and data.get("credit") is None:
            data["credit"] = self.instance.credit  # its column is hidden: keep what is stored
        elif self.ticks and not typed and self._credit_follows_tick(data):
            data["credit"] = HUNDRED if data.get("is_correct") else ZERO
            self.credit_from_tick = True
        if data.get("credit") is None and "credit" not in self.errors:
            self.add_error("credit", "Give this answer its credit in % (100 = fully right).")
        return data

    def _credit_follows_tick(self, data: dict[str, Any]) -> bool:
        """A new row's credit follows its tick; an existing row's only when the tick moved
        and the stored credit is what the old tick gave."""
        if self.instance._state.adding:
            return True
        stored = self.instance
        moved = bool(data.get("is_correct")) != stored.is_correct
        return moved and stored.credit == (HUNDRED if stored.is_correct else ZERO)


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """Refuse a question no learner could answer right, naming what is missing."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        try:
            kwargs["question_type"] = question_types.get(self.instance.type)
        except question_types.UnknownQuestionType:
            kwargs["question_type"] = None  # no type chosen yet: every column counts
        return kwargs

    def add_fields(self, form: forms.ModelForm, index: int | None) -> None:
        super().add_fields(form, index)
        # A table row has no visible label per input: name each one for screen readers.
        number = index + 1 if index is not None else "new"
        for field in form.fields.values():
            if not field.widget.is_hidden:
                field.widget.attrs["aria-label"] = f"Choice {number}: {field.label}"

    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            for name in ("text", "feedback"):
                value = (getattr(form, "cleaned_data", None) or {}).get(name)
                for message in field_problems(name, value or ""):
                    form.add_error(name, message)
        if any(self.errors):
            return
        question: Question = self.instance
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            question_type = question_types.get(question.type)
        except question_types.UnknownQuestionType:
            return  # the question form reports the type
        errors = question_type.answer_row_errors(keys_of_rows(kept))
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
            "numeric_feedback",
            "key",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "type" in self.fields:  # not for a teacher who may only view the question
            # The answers table's script shows each type's columns from this.
            type_picker = self.fields["type"].widget
            type_picker.attrs["data-answer-columns"] = json.dumps(answer_columns())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("prompt", "explanation"):
            for message in field_problems(name, data.get(name) or ""):
                self.add_error(name, message)
        if data.get("type"):
            question_type = question_types.get(data["type"])
            for name, message in question_type.question_field_errors(data).items():
                self.add_error(name, message)
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


FORMAT_LABELS = {"gift": "GIFT", "aiken": "Aiken", "moodle-xml": "Moodle XML"}
# The file extensions that say which format a file is when the teacher leaves the choice.
FORMAT_BY_EXTENSION = {".xml": "moodle-xml", ".gift": "gift", ".txt": "gift"}


def _import_formats() -> list[tuple[str, str]]:
    formats = [(name, FORMAT_LABELS.get(name, name)) for name in READERS]
    return [("", "From the file name (.xml, .gift, .txt)"), *formats]


class QuestionImportForm(forms.Form):
    file = forms.FileField(
        label="Question file",
        help_text="A GIFT file (.gift or .txt), a Moodle XML file (.xml, as Moodle's question "
        "bank exports) or an Aiken file, UTF-8.",
    )
    file_format = forms.ChoiceField(
        label="Format",
        choices=_import_formats,
        required=False,
        help_text="Aiken files are .txt too: choose Aiken for them.",
    )
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.all(),
        required=False,
        help_text="Put every question in this topic. Leave empty to use each question's "
        "category (GIFT's $CATEGORY): it names a topic by slug or title, and a category that "
        "names none becomes a new draft topic.",
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(too_large_message(upload.size))
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None and not data.get("file_format"):
            extension = Path(upload.name or "").suffix.lower()
            guessed = FORMAT_BY_EXTENSION.get(extension)
            if guessed is None:
                self.add_error(
                    "file_format",
                    f"Choose the file's format: its name ({extension or 'no extension'}) "
                    "does not say.",
                )
            else:
                data["file_format"] = guessed
        return data


class QuizAdminForm(forms.ModelForm):
    """A quiz's settings; a quiz given a time limit shows its answers once it closes,
    unless the teacher picks the feedback timing in the same save."""

    class Meta:
        model = Quiz
        fields = (
            "kind",
            "topic",
            "question_count",
            "pass_mark",
            "shuffle_questions",
            "shuffle_choices",
            "opens_at",
            "closes_at",
            "attempts_allowed",
            "time_limit_minutes",
            "feedback_timing",
            "navigation",
        )
        help_texts = {
            "shuffle_choices": "Each attempt shows the options in its own order. Turned off, "
            "the options show in the order written: make sure that order gives nothing away "
            "(the course files list the right option first).",
        }

    def validate_constraints(self) -> None:
        """Check the quiz's constraints; on the Topic add page, all but its topic's.

        There the topic is saved just before its quiz and given to it then: until that
        moment the quiz in the inline has no topic, and "topic_quizzes_have_a_topic" would
        refuse it whenever the form holds the kind. The inline always makes the quiz of the
        topic being added, so that one check waits for the database.
        """
        topic = self.fields.get("topic")
        if not (isinstance(topic, InlineForeignKeyField) and topic.parent_instance._state.adding):
            super().validate_constraints()
            return
        exclude = {"topic"} | {
            field.name
            for field in Quiz._meta.fields
            if field.name not in self.fields or field.name in self.errors
        }
        try:
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as error:
            self.add_error(None, error.messages)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind", self.instance.kind)
        if kind == QuizKind.TOPIC and "topic" in self.fields and not cleaned.get("topic"):
            self.add_error("topic", "A topic quiz needs its topic.")
        timed_now = bool(cleaned.get("time_limit_minutes")) and (
            "time_limit_minutes" in self.changed_data
        )
        if (
            timed_now
            and "feedback_timing" not in self.changed_data
            and cleaned.get("feedback_timing") == FeedbackTiming.AFTER_ANSWER
        ):
            cleaned["feedback_timing"] = FeedbackTiming.AFTER_CLOSE
            self.feedback_timing_switched = True
        return cleaned


class CertificateNameForm(forms.Form):
    name = forms.CharField(
        label="Name to print on your certificate",
        max_length=150,
        error_messages={
            "required": "Write the name to print.",
            "max_length": "Keep the name under 150 characters.",
        },
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Write the name to print.")
        return name
