"""The teachers' surface: authoring the course, the question bank's import and export,
learner records, and the reports; and, for superusers only, the LTI tool's platforms
(learning/lti/admin.py). Importing the modules registers their admins."""

from django.contrib import admin

from learning.admin import authoring, bank, imports, records, reports  # noqa: F401
from learning.lti import admin as lti_admin  # noqa: F401

admin.site.site_header = "Muscle Spasms, Explained: teaching"
admin.site.site_title = "Course admin"
admin.site.index_title = "Author the course and follow your learners"
