"""What the course keeps about LTI beyond django-lti's records: an LMS course's class, a
link's graded quiz and each score on its way to the LMS gradebook.

Imported by learning.models, so these are models of the `learning` app."""

from decimal import Decimal

from django.db import models


class LmsClass(models.Model):
    """An LMS course (an LTI context) is a class here: its instructors teach it, its
    learners are its members (from their launches, or the roster on a teacher's request)."""

    context = models.OneToOneField(
        "lti_tool.LtiContext", on_delete=models.CASCADE, related_name="lms_class"
    )
    classroom = models.OneToOneField(
        "learning.Classroom", on_delete=models.CASCADE, related_name="lms_class"
    )
    roster_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "LMS course"
        verbose_name_plural = "LMS courses"

    def __str__(self) -> str:
        return f"{self.classroom} (LMS course {self.context})"


class GradedLink(models.Model):
    """A resource link in an LMS course that opens a quiz, and the gradebook column (AGS
    line item) its scores go to."""

    resource_link = models.OneToOneField(
        "lti_tool.LtiResourceLink", on_delete=models.CASCADE, related_name="graded_link"
    )
    quiz = models.ForeignKey("learning.Quiz", on_delete=models.CASCADE, related_name="lms_links")
    lineitem_url = models.URLField("line item URL", max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.quiz} in {self.resource_link}"


class GradeSendState(models.TextChoices):
    WAITING = "waiting", "Waiting to be sent"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Not reached; trying again"
    GAVE_UP = "gave_up", "Not sent; gave up"
    # A later attempt's score went (or is going) to the same line item instead: sending
    # this older one could overwrite the newer score.
    SUPERSEDED = "superseded", "Replaced by a later attempt's score"


class GradeSend(models.Model):
    """One finished attempt's score for one LMS line item: created in the finishing
    transaction, sent after it commits, tried again with growing waits while the LMS
    cannot be reached. Its state is what the learner and the teacher see."""

    attempt = models.ForeignKey(
        "learning.Attempt", on_delete=models.CASCADE, related_name="grade_sends"
    )
    link = models.ForeignKey(GradedLink, on_delete=models.CASCADE, related_name="grade_sends")
    lti_user = models.ForeignKey(
        "lti_tool.LtiUser", on_delete=models.CASCADE, related_name="grade_sends"
    )
    score_given = models.DecimalField(max_digits=6, decimal_places=2)
    score_maximum = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(100))
    state = models.CharField(
        max_length=20, choices=GradeSendState.choices, default=GradeSendState.WAITING
    )
    tries = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "link"], name="one_grade_send_per_link")
        ]
        indexes = [models.Index(fields=["state", "next_try_at"], name="grade_send_due")]
        permissions = [("send_again_gradesend", "Can send a score to the LMS again now")]
        verbose_name = "LMS grade"
        verbose_name_plural = "LMS grades"

    def __str__(self) -> str:
        return f"{self.score_given}/{self.score_maximum} for {self.attempt}: {self.state}"
