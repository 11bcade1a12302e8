"""The Teachers group: what a teacher may do in the admin, and nothing more."""

from django.contrib.auth.models import Group, Permission

TEACHERS_GROUP = "Teachers"

# (model, actions) in the learning app. Teachers author content and look at learner
# records; they get nothing over users, groups or permissions.
TEACHER_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "topic": ("add", "change", "delete", "view"),
    "lesson": ("add", "change", "delete", "view"),
    "quiz": ("add", "change", "delete", "view"),
    "question": ("add", "change", "delete", "view"),
    "choice": ("add", "change", "delete", "view"),
    "classroom": ("add", "change", "delete", "view"),
    # make_reset_link: a one-time password reset link for a learner without email.
    "membership": ("delete", "view", "make_reset_link"),
    "attempt": ("view",),
    "response": ("view",),
    "topicprogress": ("view",),
    # The import history: its undo asks for the question permissions an import needs.
    "questionimport": ("view",),
    # The reports: proxy models whose view permission opens the page.
    "itemanalysis": ("view",),
    "progressreport": ("view",),
    # Scores on their way to an LMS gradebook, read-only; "send again now" is its own right.
    "gradesend": ("view", "send_again"),
}


def teacher_codenames() -> set[str]:
    return {
        f"{action}_{model}" for model, actions in TEACHER_PERMISSIONS.items() for action in actions
    }


def sync_teachers_group(group_model: type[Group], permission_model: type[Permission]) -> Group:
    """Create the Teachers group if needed and give it exactly the teacher permissions.

    Takes the models as arguments so the data migration can pass its historical ones
    (which have the same fields, and are typed as these).
    """
    group, _ = group_model.objects.get_or_create(name=TEACHERS_GROUP)
    group.permissions.set(
        permission_model.objects.filter(
            content_type__app_label="learning", codename__in=teacher_codenames()
        )
    )
    return group
