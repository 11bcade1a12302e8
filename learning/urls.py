from django.urls import path, re_path

from learning import views

app_name = "learning"

urlpatterns = [
    path("", views.course, name="course"),
    path("manifest.webmanifest", views.web_manifest, name="web_manifest"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("signup/", views.signup, name="signup"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("classes/join/", views.join_class, name="join_class"),
    path("review/", views.review, name="review"),
    path("review/start/", views.start_review, name="start_review"),
    path("challenge/", views.challenge, name="challenge"),
    path("challenge/start/", views.start_challenge, name="start_challenge"),
    path("certificate/", views.my_certificate, name="certificate"),
    # Anything but a well-formed token is no certificate: a 404 from the resolver.
    re_path(
        r"^certificates/(?P<token>[A-Za-z0-9_-]{16,64})/$",
        views.verify_certificate,
        name="verify_certificate",
    ),
    path("glossary/", views.glossary_page, name="glossary"),
    path("diagrams/<slug:name>.svg", views.diagram, name="diagram"),
    path("topics/<slug:slug>/", views.lesson, name="lesson"),
    path("topics/<slug:slug>/read/", views.mark_read, name="mark_read"),
    path("topics/<slug:slug>/quiz/", views.quiz_detail, name="quiz"),
    path("topics/<slug:slug>/quiz/start/", views.start_quiz, name="start_quiz"),
    path("attempts/<int:attempt_id>/", views.attempt_detail, name="attempt"),
    path(
        "attempts/<int:attempt_id>/questions/<int:position>/",
        views.attempt_question,
        name="question",
    ),
    path("attempts/<int:attempt_id>/result/", views.attempt_result, name="result"),
]
