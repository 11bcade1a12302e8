"""The site's URLs plus the test LMS's endpoints (tests/lti_platform.py)."""

from django.urls import path

from quizsite.urls import urlpatterns as site_urlpatterns
from tests import lti_platform

urlpatterns = [
    path("test-platform/jwks/", lti_platform.jwks_view),
    path("test-platform/auth/", lti_platform.auth_view),
    path("test-platform/course/", lti_platform.course_view),
    path("test-platform/frame/", lti_platform.frame_view),
    path("test-platform/token/", lti_platform.token_view),
    path("test-platform/lineitems/", lti_platform.lineitems_view),
    path("test-platform/lineitems/<int:number>/scores", lti_platform.scores_view),
    path("test-platform/memberships/", lti_platform.memberships_view),
    path("test-platform/deep-link-return/", lti_platform.deep_link_return_view),
    *site_urlpatterns,
]
