"""The records a launch from the test LMS leaves (an LMS course and its class, a graded
link, a learner's membership), made with the ORM for the tests of what comes after it:
grades back, the roster, deep linking. The launch makes the same ones (learning/lti/)."""

from django.contrib.auth.models import User
from lti_tool.models import (
    LtiContext,
    LtiDeployment,
    LtiMembership,
    LtiRegistration,
    LtiResourceLink,
    LtiUser,
)

from learning.models import Classroom, GradedLink, LmsClass, Quiz
from tests.lti_platform import FakePlatform


def lms_course(
    platform: FakePlatform,
    registration: LtiRegistration,
    *,
    context_id: str = "course-101",
    title: str = "Physiology 101",
    teachers: tuple[User, ...] = (),
) -> LmsClass:
    """An LMS course as its launches describe it (names-and-roles and grades offered),
    and the class it is here."""
    deployment = LtiDeployment.objects.get(registration=registration)
    context = LtiContext.objects.create(
        deployment=deployment,
        id_on_platform=context_id,
        title=title,
        label=title.split()[0],
        is_course_offering=True,
        memberships_url=platform.memberships_url,
        lineitems_url=platform.lineitems_url,
        can_query_lineitems=True,
        can_manage_lineitems=True,
        can_publish_scores=True,
        can_access_results=True,
    )
    classroom = Classroom.objects.create(name=title)
    classroom.teachers.add(*teachers)
    return LmsClass.objects.create(context=context, classroom=classroom)


def graded_link(
    platform: FakePlatform, course: LmsClass, quiz: Quiz, *, number: int = 1
) -> GradedLink:
    """A link in the course that opens the quiz, and its gradebook column (line item)."""
    resource_link = LtiResourceLink.objects.create(
        context=course.context, id_on_platform=f"link-{number}", title=str(quiz)
    )
    return GradedLink.objects.create(
        resource_link=resource_link, quiz=quiz, lineitem_url=platform.lineitem_url(number)
    )


def lms_learner(
    registration: LtiRegistration,
    course: LmsClass | None,
    user: User,
    *,
    sub: str = "learner-1",
    active: bool = True,
) -> LtiUser:
    """The account's LTI user on this platform, a learner of the course (if one is given)
    and a member of its class."""
    lti_user = LtiUser.objects.create(registration=registration, sub=sub, auth_user=user)
    if course is not None:
        LtiMembership.objects.create(
            user=lti_user, context=course.context, is_learner=True, is_active=active
        )
        course.classroom.learners.add(user)
    return lti_user
