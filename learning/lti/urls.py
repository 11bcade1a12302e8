from django.urls import path
from lti_tool.views import jwks

from learning.lti import deep_linking, launch, roster

app_name = "lti"

urlpatterns = [
    # What the LMS administrator pastes (shown on the platform's page in the admin).
    path("login/<uuid:registration_uuid>/", launch.login_initiation, name="login"),
    path("launch/", launch.launch, name="launch"),
    path("jwks.json", jwks, name="jwks"),
    # Reached after a launch, inside the LMS's frame.
    path("deep-link/", deep_linking.pick, name="deep_link"),
    path("classes/<int:classroom_id>/roster/", roster.sync_roster, name="roster"),
]
