"""The LTI tool in the admin, for superusers only: the LMS platforms (django-lti's
registrations, with their deployments), the page an LMS administrator pastes from, and
read-only views of what launches recorded (LMS courses and their classes, LMS accounts)
and of the tool's signing keys.

Teachers see none of it, whatever permissions they hold: a registration decides who may
sign in, and a key signs what the tool sends every LMS. django-lti's membership, resource
link, line item and platform instance records stay out: launches write them, and what a
superuser needs of them shows on the LMS course and account pages.
"""

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Model, OuterRef, Q, QuerySet, Subquery
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from lti_tool.models import (
    Key,
    LtiContext,
    LtiDeployment,
    LtiMembership,
    LtiRegistration,
    LtiResourceLink,
    LtiUser,
)

from learning.admin.read_only import ReadOnlyAdminMixin
from learning.lti import platform_setup

# Plain http is accepted for these hosts while DEBUG is on (a platform on the laptop).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class SuperusersOnlyMixin:
    """For a ModelAdmin: nobody but an active superuser sees the model, in the index or by
    URL, whatever permissions they were given."""

    def _is_superuser(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._is_superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._is_superuser(request)


def platform_url_error(value: str) -> str | None:
    """Why `value` cannot be one of a platform's addresses, or None."""
    parts = urlsplit(value)
    if not parts.hostname:
        return "Enter a full address, such as https://lms.example.edu/..."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and settings.DEBUG and parts.hostname in LOCAL_HOSTS:
        return None
    return (
        "Use an https:// address: LTI messages carry sign-ins and grades. Plain http:// is "
        "accepted only for localhost or 127.0.0.1 while DEBUG is on."
    )


class RegistrationForm(forms.ModelForm):
    URL_FIELDS = ("auth_url", "token_url", "keyset_url")
    # What a launch needs; a platform may be saved without them (the LMS gives the client
    # ID only once it has the tool's login URL, which this registration's UUID is part
    # of), but not switched on.
    NEEDED_TO_BE_ACTIVE = ("client_id", *URL_FIELDS)

    class Meta:
        model = LtiRegistration
        fields = (
            "name",
            "issuer",
            "client_id",
            "auth_url",
            "token_url",
            "keyset_url",
            "audience",
            "is_active",
        )
        labels = {
            "name": "Name",
            "issuer": "Issuer (platform ID)",
            "client_id": "Client ID",
            "auth_url": "Authentication request URL",
            "token_url": "Access token URL",
            "keyset_url": "Public keyset URL",
            "audience": "Token audience",
            "is_active": "Active",
        }
        help_texts = {
            "name": "Your name for this LMS, such as “Moodle at Hill School”.",
            "issuer": (
                "The LMS's address as it signs its messages: Moodle's “Platform ID” (the "
                "site's URL); https://canvas.instructure.com for Canvas hosted by "
                "Instructure."
            ),
            "client_id": (
                "The ID the LMS gave the tool: Moodle's “Client ID”; the number in the "
                "Details column of the Canvas developer key. Leave it empty until the LMS "
                "gives it (the platform stays inactive until then)."
            ),
            "auth_url": (
                "Where browsers are sent to sign in (OIDC): Moodle's “Authentication request "
                "URL” (…/mod/lti/auth.php); https://sso.canvaslms.com/api/lti/authorize_redirect "
                "for Canvas."
            ),
            "token_url": (
                "Where the tool asks for access to grades and rosters: Moodle's “Access token "
                "URL” (…/mod/lti/token.php); https://sso.canvaslms.com/login/oauth2/token for "
                "Canvas."
            ),
            "keyset_url": (
                "The LMS's public keys, which check its launches: Moodle's “Public keyset URL” "
                "(…/mod/lti/certs.php); https://sso.canvaslms.com/api/lti/security/jwks for "
                "Canvas."
            ),
            "audience": (
                "Only if the LMS says so: the audience of the tool's token requests, when it "
                "is not the access token URL. Usually empty."
            ),
            "is_active": (
                "Launches from this LMS are accepted only while it is on. Switch it off "
                "rather than deleting a platform that has been used."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.NEEDED_TO_BE_ACTIVE:
            self.fields[name].required = False

    def clean_issuer(self) -> str:
        issuer: str = self.cleaned_data["issuer"].strip()
        error = platform_url_error(issuer)
        if error:
            raise ValidationError(error)
        parts = urlsplit(issuer)
        if parts.query or parts.fragment:
            raise ValidationError("An issuer is a URL without a query (?…) or fragment (#…).")
        return issuer

    def _clean_platform_url(self, name: str) -> str:
        value: str = self.cleaned_data[name]
        error = platform_url_error(value) if value else None
        if error:
            raise ValidationError(error)
        return value

    def clean_auth_url(self) -> str:
        return self._clean_platform_url("auth_url")

    def clean_token_url(self) -> str:
        return self._clean_platform_url("token_url")

    def clean_keyset_url(self) -> str:
        return self._clean_platform_url("keyset_url")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        issuer, client_id = cleaned.get("issuer"), cleaned.get("client_id")
        if issuer and client_id is not None and "client_id" not in self.errors:
            twin = (
                LtiRegistration.objects.filter(issuer=issuer, client_id=client_id)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if twin is not None:
                self.add_error(
                    "client_id",
                    f"“{twin.name}” is already registered with this issuer and client ID. "
                    "Each LMS registration has its own client ID; change that one instead.",
                )
        if cleaned.get("is_active"):
            lacking = [
                str(self.fields[name].label)
                for name in self.NEEDED_TO_BE_ACTIVE
                if not cleaned.get(name) and name not in self.errors
            ]
            if lacking:
                self.add_error(
                    "is_active",
                    "It can be active only once it has all the LMS gives: "
                    f"{', '.join(lacking)}. Leave Active off until then.",
                )
        return cleaned


class DeploymentForm(forms.ModelForm):
    class Meta:
        model = LtiDeployment
        fields = ("deployment_id", "is_active")
        labels = {"deployment_id": "Deployment ID", "is_active": "Active"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            # One a superuser enters is meant to work; django-lti's default (off) is for
            # deployments it would record from an unchecked launch.
            self.fields["is_active"].initial = True


class DeploymentFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        for form in self.deleted_forms:
            deployment = form.instance
            if deployment.pk is not None and deployment.contexts.exists():
                raise ValidationError(
                    f"Deployment {deployment.deployment_id} has LMS courses that launched "
                    "the course: switch it off (untick Active) instead of deleting it, so "
                    "their classes and gradebook links stay as they are."
                )


class DeploymentInline(admin.TabularInline):
    model = LtiDeployment
    form = DeploymentForm
    formset = DeploymentFormSet
    fields = ("deployment_id", "is_active")
    extra = 1
    verbose_name = "deployment"
    verbose_name_plural = "Deployment IDs (Moodle's “Deployment ID”, Canvas's “Deployment Id”)"


def has_launched(registration: LtiRegistration) -> bool:
    return (
        LtiUser.objects.filter(registration=registration).exists()
        or LtiContext.objects.filter(deployment__registration=registration).exists()
    )


admin.site.unregister(LtiRegistration)


@admin.register(LtiRegistration)
class RegistrationAdmin(SuperusersOnlyMixin, admin.ModelAdmin):
    """An LMS that may launch the course. Replaces django-lti's admin: clearer fields, the
    checks above, deployments switched on when entered, and the setup page."""

    form = RegistrationForm
    inlines = (DeploymentInline,)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # Off until the LMS has given its client ID (README, "Registering an LMS").
        return {**super().get_changeform_initial_data(request), "is_active": False}

    list_display = (
        "name",
        "issuer",
        "client_id",
        "is_active",
        "active_deployments",
        "last_launch",
        "setup_column",
    )
    search_fields = ("name", "issuer", "client_id")
    readonly_fields = ("setup_link", "login_url")
    fieldsets = (
        (None, {"fields": ("name", "is_active")}),
        (
            "From the LMS",
            {
                "description": (
                    "Where to find each one in Moodle and Canvas is under each field and on "
                    "the platform's “Set up in your LMS” page."
                ),
                "fields": (
                    "issuer",
                    "client_id",
                    "auth_url",
                    "token_url",
                    "keyset_url",
                    "audience",
                ),
            },
        ),
        ("For the LMS", {"fields": ("setup_link", "login_url")}),
    )
    change_form_template = "admin/lti_tool/ltiregistration/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[LtiRegistration]:
        newest_user = LtiUser.objects.filter(registration=OuterRef("pk")).order_by(
            "-datetime_modified"
        )
        newest_course = LtiContext.objects.filter(
            deployment__registration=OuterRef("pk")
        ).order_by("-datetime_modified")
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_deployment_count=Count(
                    "deployments", filter=Q(deployments__is_active=True), distinct=True
                ),
                user_seen_at=Subquery(newest_user.values("datetime_modified")[:1]),
                course_seen_at=Subquery(newest_course.values("datetime_modified")[:1]),
            )
        )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Deleting a platform whose learners launched would cut them off their accounts
        # and gradebook links: one at a time from its page (no bulk action, which asks
        # with obj None), and only if it never launched. Switching it off is the way.
        if not super().has_delete_permission(request, obj):
            return False
        return isinstance(obj, LtiRegistration) and not has_launched(obj)

    def get_urls(self) -> list[URLPattern]:
        setup = path(
            "<path:object_id>/setup/",
            self.admin_site.admin_view(self.setup_view),
            name="lti_tool_ltiregistration_setup",
        )
        return [setup, *super().get_urls()]

    def response_add(
        self, request: HttpRequest, obj: LtiRegistration, post_url_continue: str | None = None
    ) -> HttpResponse:
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(
            request,
            f"“{obj.name}” is registered. Paste what this page lists into the LMS, then bring "
            "back what the LMS gives (client ID, deployment ID) if you have not yet.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:lti_tool_ltiregistration_setup", args=[obj.pk]))

    def setup_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Everything the LMS administrator pastes into their LMS for this platform."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        registration = self.get_object(request, object_id)
        if registration is None:
            raise Http404("No LMS platform has this id.")
        urls = platform_setup.tool_urls(site_base_url(request), registration)
        status = platform_setup.setup_status(registration)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Set up {platform_setup.TOOL_NAME} in {registration.name}",
            "registration": registration,
            "tool_name": platform_setup.TOOL_NAME,
            "tool_description": platform_setup.TOOL_DESCRIPTION,
            "urls": urls,
            "status": status,
            "public_key_pem": platform_setup.public_key_pem(status.signing_key),
            "ags_scopes": "\n".join(platform_setup.AGS_SCOPES),
            "nrps_scopes": "\n".join(platform_setup.NRPS_SCOPES),
            "targets": platform_setup.TARGETS,
            "topic_targets": platform_setup.topic_targets(),
            "canvas_json": platform_setup.canvas_json(urls),
        }
        return TemplateResponse(request, "admin/lti_tool/ltiregistration/setup.html", context)

    @admin.display(description="What to paste into it")
    def setup_link(self, registration: LtiRegistration) -> str:
        if registration.pk is None:
            return "Shown once the platform is saved."
        url = reverse("admin:lti_tool_ltiregistration_setup", args=[registration.pk])
        return format_html('<a href="{}">Set up in your LMS</a>', url)

    @admin.display(description="For the LMS")
    def setup_column(self, registration: LtiRegistration) -> str:
        return self.setup_link(registration)

    @admin.display(description="Its login initiation URL")
    def login_url(self, registration: LtiRegistration) -> str:
        if registration.pk is None:
            return "Made when the platform is saved: its own address, with its UUID."
        return f"{reverse('lti:login', args=[registration.uuid])} on this site"

    @admin.display(description="Deployments on")
    def active_deployments(self, registration: LtiRegistration) -> int:
        return int(getattr(registration, "active_deployment_count", 0))

    @admin.display(description="Last launch")
    def last_launch(self, registration: LtiRegistration) -> Any:
        seen = [
            moment
            for moment in (
                getattr(registration, "user_seen_at", None),
                getattr(registration, "course_seen_at", None),
            )
            if moment is not None
        ]
        return max(seen) if seen else "No launch yet"


def site_base_url(request: HttpRequest) -> str:
    """The site's address as an LMS reaches it: this request's host, over https unless
    DEBUG is on (behind a proxy that ends TLS the request itself may be plain http)."""
    scheme = request.scheme if settings.DEBUG else "https"
    return f"{scheme}://{request.get_host()}"


class ResourceLinkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LtiResourceLink
    fields = ("title", "id_on_platform", "graded_quiz", "datetime_created")
    readonly_fields = fields
    extra = 0
    verbose_name = "link in this LMS course"
    verbose_name_plural = "Links in this LMS course"

    def get_queryset(self, request: HttpRequest) -> QuerySet[LtiResourceLink]:
        return super().get_queryset(request).select_related("graded_link__quiz__topic")

    @admin.display(description="Gradebook column for")
    def graded_quiz(self, link: LtiResourceLink) -> str:
        graded = getattr(link, "graded_link", None)
        return graded.quiz.title if graded is not None else "–"


@admin.register(LtiContext)
class LmsCourseAdmin(ReadOnlyAdminMixin, SuperusersOnlyMixin, admin.ModelAdmin):
    """The LMS courses launches came from, each with the class it is here."""

    list_display = ("__str__", "label", "platform", "class_here", "member_count", "last_launch")
    list_filter = ("deployment__registration",)
    list_select_related = ("deployment__registration", "lms_class__classroom")
    search_fields = ("title", "label", "id_on_platform")
    fields = (
        "title",
        "label",
        "id_on_platform",
        "platform",
        "deployment_id",
        "class_here",
        "member_count",
        "datetime_created",
        "last_launch",
    )
    readonly_fields = fields
    inlines = (ResourceLinkInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[LtiContext]:
        return super().get_queryset(request).annotate(members_total=Count("memberships"))

    @admin.display(description="LMS platform", ordering="deployment__registration__name")
    def platform(self, context: LtiContext) -> str:
        return str(context.deployment.registration)

    @admin.display(description="Deployment ID")
    def deployment_id(self, context: LtiContext) -> str:
        return str(context.deployment.deployment_id)

    @admin.display(description="Class here")
    def class_here(self, context: LtiContext) -> str:
        lms_class = getattr(context, "lms_class", None)
        if lms_class is None:
            return "–"
        url = reverse("admin:learning_classroom_change", args=[lms_class.classroom_id])
        return format_html('<a href="{}">{}</a>', url, lms_class.classroom.name)

    @admin.display(description="LMS members seen", ordering="members_total")
    def member_count(self, context: LtiContext) -> int:
        return int(getattr(context, "members_total", 0))

    @admin.display(description="Last launch", ordering="datetime_modified")
    def last_launch(self, context: LtiContext) -> Any:
        return date_format(timezone.localtime(context.datetime_modified), "DATETIME_FORMAT")


class MembershipInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LtiMembership
    fields = ("context", "roles", "is_active", "datetime_modified")
    readonly_fields = fields
    extra = 0
    verbose_name = "LMS course"
    verbose_name_plural = "LMS courses"

    def get_queryset(self, request: HttpRequest) -> QuerySet[LtiMembership]:
        return super().get_queryset(request).select_related("context")

    @admin.display(description="Roles")
    def roles(self, membership: LtiMembership) -> str:
        flags = (
            ("is_instructor", "Instructor"),
            ("is_administrator", "Administrator"),
            ("is_content_developer", "Content developer"),
            ("is_mentor", "Mentor"),
            ("is_learner", "Learner"),
        )
        return ", ".join(name for flag, name in flags if getattr(membership, flag)) or "–"


@admin.register(LtiUser)
class LmsAccountAdmin(ReadOnlyAdminMixin, SuperusersOnlyMixin, admin.ModelAdmin):
    """Who launched from an LMS, and the account here each one signs in as."""

    list_display = ("sub", "name_given", "email", "registration", "account", "datetime_modified")
    list_filter = ("registration",)
    list_select_related = ("registration", "auth_user")
    search_fields = ("sub", "name", "given_name", "family_name", "email", "auth_user__username")
    fields = (
        "registration",
        "sub",
        "name_given",
        "email",
        "account",
        "datetime_created",
        "datetime_modified",
    )
    readonly_fields = fields
    inlines = (MembershipInline,)

    @admin.display(description="Name")
    def name_given(self, lti_user: LtiUser) -> str:
        full = f"{lti_user.given_name} {lti_user.family_name}".strip()
        return str(lti_user.name or full or "–")

    @admin.display(description="Account here", ordering="auth_user__username")
    def account(self, lti_user: LtiUser) -> str:
        if lti_user.auth_user is None:
            return "–"
        url = reverse("admin:auth_user_change", args=[lti_user.auth_user_id])
        return format_html('<a href="{}">{}</a>', url, lti_user.auth_user.get_username())


@admin.register(Key)
class SigningKeyAdmin(ReadOnlyAdminMixin, SuperusersOnlyMixin, admin.ModelAdmin):
    """The tool's keys, public halves only. `manage.py ensure_lti_key` makes one, and
    `manage.py rotate_lti_key` replaces it (README: the tool's key)."""

    list_display = ("__str__", "role", "is_active", "datetime_created")
    list_filter = ("is_active",)
    fields = ("key_id", "role", "is_active", "datetime_created", "public_key")
    readonly_fields = fields
    ordering = ("-datetime_created", "-pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Key]:
        newest_active = Key.objects.active().order_by("-datetime_created", "-pk")
        return (
            super()
            .get_queryset(request)
            .annotate(signing_pk=Subquery(newest_active.values("pk")[:1]))
        )

    @admin.display(description="Key ID (kid)")
    def key_id(self, key: Key) -> str:
        return str(key)

    @admin.display(description="Use")
    def role(self, key: Key) -> str:
        if not key.is_active:
            return "Retired: no longer listed"
        if getattr(key, "signing_pk", None) == key.pk:
            return "Signs now; listed at /lti/jwks.json"
        return "Replaced; still listed for the grace period"
