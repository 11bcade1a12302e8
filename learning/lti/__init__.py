"""The LTI 1.3 tool: an LMS (Moodle, Canvas, ...) launches learners and teachers into the
course signed in, places topic quizzes in its course by deep linking, receives their
scores (Assignment and Grade Services) and gives its roster (Names and Role Provisioning).

django-lti (`lti_tool`) holds the platforms (LtiRegistration, LtiDeployment), the tool's
keys (Key, rotated by `manage.py rotate_keys`) and what launches said about users,
contexts and resource links; PyLTI1p3 checks the messages. This package adds what is ours:
which account a launch signs in, which class an LMS course is, which quiz a link grades
and the scores on their way back.
"""
