"""Accounts in the browser: sign-up, sign-in, sign-out, personal access tokens,
applications (OAuth2 clients), organisation members and invitations, and the
OAuth2 consent page.

Browser sessions are server-side: the signed cookie carries only a random secret (as
Flask-Login's user id), and the user loader finds the catalogue's UserSession row by its hash,
so sign-out (which deletes the row) kills every copy of the cookie, and sessions end after
SESSION_IDLE_HOURS without a request or SESSION_MAX_AGE_HOURS in all. Remember-me cookies are
not issued; one would carry the same secret and go through the same table.

Also the per-request "who is acting" hook: a bearer token (any path), else the
signed-in person (every path except the REST API, which takes tokens only so
that it needs no CSRF token). Every rule is in the catalogue services; these
views only turn forms into service calls and errors into messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)

from api.context import current_principal, runtime
from api.limits import init_limiter, limit_blueprint, limit_view
from api.oauth2.resource import bearer_principal
from api.oauth2.server import GrantUser, authorization_server, init_oauth2
from api.rest.common import method_not_allowed
from catalog.models import Organisation, Role, User
from catalog.principal import ANONYMOUS, SCOPES, Principal
from catalog.services import accounts, invitations, organisations
from catalog.services import clients as client_service
from catalog.services import tokens as token_service
from catalog.services.tokens import MAX_PERSONAL_DAYS
from catalog.services.users import MIN_PASSWORD
from portal import mail
from portal.i18n import number
from schema.errors import CGDError, Conflict, InvalidInput, PermissionDenied, Problem

bp = Blueprint("auth", __name__)


def _is_static() -> bool:
    """A static file: the same bytes for everyone, so its response must not depend on the session."""
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


class _LoginManager(LoginManager):
    """Flask-Login, except that static files never read the session.

    Flask adds ``Vary: Cookie`` to any response whose request touched ``session``, and
    Flask-Login's after-request hook always does; a shared cache would then keep one copy of
    a year-long cached stylesheet per visitor's cookie.
    """

    def _update_remember_cookie(self, response):
        if _is_static():
            return response
        return super()._update_remember_cookie(response)


login_manager = _LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = lazy_gettext("Sign in to continue.")

# Scope names stay in English (they are what applications send); the labels explain them.
SCOPE_LABELS = {
    "datasets:read-private": lazy_gettext(
        "Read your organisations' unpublished datasets, versions and reports"
    ),
    "datasets:write": lazy_gettext("Create datasets and upload new versions"),
    "datasets:publish": lazy_gettext("Approve, publish and withdraw versions"),
    "endorsements:write": lazy_gettext("Endorse datasets on behalf of your organisations"),
    "org:admin": lazy_gettext("Administer your organisations (members, invitations, applications)"),
}

# The catalogue services speak English; the problems a person meets on these pages are shown
# in the page's language, picked by the problem's stable code (and field where it matters).
_PROBLEM_TEXT: dict[tuple[str, str | None], Callable[[], str]] = {
    ("invalid_credentials", None): lambda: _("Wrong e-mail or password."),
    ("invalid_credentials", "current"): lambda: _("The current password is wrong."),
    ("last_admin", None): lambda: _(
        "An organisation needs at least one administrator: make someone else an administrator first."
    ),
    ("account_locked", None): lambda: _(
        "Too many failed sign-ins: this account is locked for a while."
    ),
    ("inactive_account", None): lambda: _("This account is disabled."),
    ("invalid_email", None): lambda: _("Enter a valid e-mail address."),
    ("weak_password", None): lambda: _("Use at least %(n)s characters.", n=number(MIN_PASSWORD)),
    ("email_taken", None): lambda: _("An account with this e-mail exists."),
    ("required", "name"): lambda: _("Enter a name."),
    ("required", "organisations"): lambda: _("Choose at least one organisation."),
    ("required", "scopes"): lambda: _("Choose a scope."),
    ("invalid_expiry", None): lambda: _(
        "Expire in %(a)s to %(b)s days.", a=number(1), b=number(MAX_PERSONAL_DAYS)
    ),
    ("organisation_not_member", None): lambda: _("Choose only organisations you belong to."),
    ("invalid_scope", None): lambda: _("Choose scopes from the list."),
    ("invalid_choice", None): lambda: _("Choose from the list."),
    ("invalid_redirect_uri", None): lambda: _(
        "Each redirect URI must use https (or http on a loopback address) and have no fragment."
    ),
    ("already_member", None): lambda: _("You are already a member with this role or higher."),
}


@dataclass
class AccountUser(UserMixin):
    """The signed-in person as Flask-Login sees them (a detached copy, not an ORM row).

    Flask-Login keeps ``get_id()`` in the cookie: here that is the browser session's secret,
    never the user id, so the cookie is worthless once the session row is gone.
    """

    id: int
    email: str
    name: str
    is_admin: bool
    session_secret: str

    @classmethod
    def of(cls, user: User, session_secret: str) -> AccountUser:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            is_admin=user.is_admin,
            session_secret=session_secret,
        )

    def get_id(self) -> str:
        return self.session_secret


def _hours(key: str) -> timedelta:
    value = current_app.config.get(key)
    hours = float(value) if value is not None else 0.0
    if not hours > 0:
        raise InvalidInput(f"{key} must be a positive number of hours.", code="invalid_config")
    return timedelta(hours=hours)


def _session_limits() -> tuple[timedelta, timedelta]:
    """(absolute, idle) lifetime of a browser session, from the app's configuration."""
    return _hours("SESSION_MAX_AGE_HOURS"), _hours("SESSION_IDLE_HOURS")


@login_manager.user_loader
def _load_user(secret: str) -> AccountUser | None:
    """The person whose live browser session has this secret (an expired one is deleted)."""
    _, idle = _session_limits()
    with runtime().db.session() as s:
        user = accounts.session_user(s, secret, idle=idle)
        return None if user is None else AccountUser.of(user, secret)


def _sign_in_browser(user: User, s) -> AccountUser:
    """A fresh server-side session for this browser (new secret: no fixation), signed in."""
    absolute, idle = _session_limits()
    _end_browser_session(s)  # an earlier sign-in in this browser ends here
    raw = accounts.start_session(
        s, user, user_agent=request.headers.get("User-Agent"), max_age=absolute, idle=idle
    )
    return AccountUser.of(user, raw)


def _end_browser_session(s=None) -> None:
    """Delete this browser's session row, if its cookie names one (in ``s``, else its own unit)."""
    secret = session.get("_user_id")
    if not secret:
        return
    if s is not None:
        accounts.end_session(s, secret)
        return
    with runtime().db.session() as own:
        accounts.end_session(own, secret)


def _set_principal() -> None:
    """Set flask.g.cgd_principal for this request (read by api.context.current_principal)."""
    g.cgd_principal = ANONYMOUS
    if _is_static() or request.path.startswith("/static/"):
        return
    token = bearer_principal()  # InvalidToken (401) for an unknown, expired or revoked token
    if token is not None:
        g.cgd_principal = token
        return
    if request.path.startswith("/api/v1"):
        return
    if current_user.is_authenticated:
        g.cgd_principal = Principal(
            kind="user",
            user_id=current_user.id,
            is_admin=current_user.is_admin,
            label=current_user.email,
        )


def init_access(app: Flask) -> None:
    """Sessions (Flask-Login), the principal hook, the OAuth2 server and rate limits."""
    login_manager.init_app(app)
    with app.app_context():
        _session_limits()  # a bad CGD_SESSION_*_HOURS fails at start, not at the first sign-in
    if app.config.get("SMTP_URL"):
        mail.smtp_settings(app.config["SMTP_URL"])  # and so does a wrong CGD_SMTP_URL
    app.before_request(_set_principal)
    init_oauth2(app)
    init_limiter(app)
    limit_blueprint(app, "rest", "RATELIMIT_API")
    limit_blueprint(app, "oauth2", "RATELIMIT_TOKEN_ENDPOINT")
    for endpoint in (
        "auth.sign_in",
        "auth.sign_up",
        "auth.security",
        "auth.forgot_password",
        "auth.reset_password",
    ):
        limit_view(app, endpoint, "RATELIMIT_SIGN_IN", methods=["POST"])

    @app.errorhandler(405)
    def _method_not_allowed(err):
        # Routing errors happen before a blueprint is chosen, so the API's own handler never sees them.
        if request.path.startswith("/api/"):
            return method_not_allowed(err)
        return err


# --- helpers ---------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no '//'), else the account page."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("auth.account")


def _problem_text(code: str, field: str | None, english: str) -> str:
    """The message of a problem in the page's language (the service's English if unknown)."""
    text = _PROBLEM_TEXT.get((code, field)) or _PROBLEM_TEXT.get((code, None))
    return text() if text is not None else english


def _problems_by_field(err: CGDError) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in err.problems:
        out.setdefault(p.field or "_", []).append(_problem_text(p.code, p.field, p.message))
    if not err.problems:
        out["_"] = [_problem_text(err.code, None, err.message)]
    return out


def _confirmed_new_password() -> str:
    """The form's new password; InvalidInput (on confirm_password) when the two copies differ."""
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        differ = _("The two new passwords differ.")
        raise InvalidInput(differ, [Problem("password_mismatch", differ, field="confirm_password")])
    return new


def _user_principal() -> Principal:
    principal = current_principal()
    if principal.kind != "user":
        raise PermissionDenied(_("Sign in to the portal to do this."), code="session_required")
    return principal


def _form_list(name: str) -> list[str]:
    return [v for v in request.form.getlist(name) if v]


def _form_ints(name: str) -> list[int]:
    out = []
    for v in _form_list(name):
        try:
            out.append(int(v))
        except ValueError:
            raise InvalidInput(
                _("Choose organisations from the list."), code="invalid_choice"
            ) from None
    return out


# --- sign-up, sign-in, sign-out ---------------------------------------------


@bp.route("/account/sign-up", methods=["GET", "POST"])
def sign_up():
    """Open an account (it belongs to no organisation until an invitation is accepted)."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            with runtime().db.session() as s:
                user = accounts.sign_up(
                    s,
                    email=request.form.get("email", ""),
                    password=request.form.get("password", ""),
                    name=request.form.get("name", ""),
                )
                account = _sign_in_browser(user, s)
        except CGDError as err:
            errors = _problems_by_field(err)
        else:
            session.clear()
            login_user(account, remember=False)
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if errors else 200
    return render_template("account/sign_up.html", errors=errors, form=request.form), status


@bp.route("/account/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in with e-mail and password; repeated failures lock the account for a while."""
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        account = None
        with runtime().db.session() as s:
            # Caught inside the unit of work so that the failure count is committed.
            try:
                user = accounts.authenticate(
                    s, request.form.get("email", ""), request.form.get("password", "")
                )
                account = _sign_in_browser(user, s)
            except accounts.SignInFailed as err:
                errors, status = {"_": [_problem_text(err.code, None, err.message)]}, err.status
        if account is not None:
            session.clear()  # a fresh cookie and server session at every sign-in (no fixation)
            login_user(account, remember=False)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("account/sign_in.html", errors=errors, form=request.form), status


@bp.post("/account/sign-out")
def sign_out():
    """Sign out (POST with the CSRF token, so another site cannot sign you out).

    The server-side session row is deleted, so a copy of the cookie taken earlier is dead too.
    """
    _end_browser_session()
    logout_user()
    session.clear()
    return redirect(url_for("public.home"))


# --- forgotten password --------------------------------------------------------


def _public_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail: the configured public address, not the request's host
    (a forged Host header must not be able to send people a link to another site)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


@bp.route("/account/forgot-password", methods=["GET", "POST"])
def forgot_password():
    """Ask for a password-reset link by e-mail. The answer is the same whether or not the
    address has an account, so the page cannot be used to find out who is registered."""
    sent = False
    if request.method == "POST":
        with runtime().db.session() as s:
            found = accounts.request_password_reset(s, request.form.get("email", ""))
            to = found[0].email if found is not None else None
        if found is not None:  # queued after the commit: the link works by the time it arrives
            hours = number(int(accounts.RESET_VALID_FOR.total_seconds() // 3600))
            body = _(
                "Someone (we hope you) asked to reset the password of your account on "
                "%(site)s.\n\nTo choose a new password, open this link within %(hours)s "
                "hour(s):\n%(link)s\n\nIf you did not ask for it, ignore this e-mail: "
                "your password stays as it is.",
                site=current_app.config["BASE_URL"],
                hours=hours,
                link=_public_url("auth.reset_password", token=found[1]),
            )
            mail.send_later(current_app.config, to=to, subject=_("Reset your password"), body=body)
        sent = True
    return render_template("account/forgot_password.html", sent=sent)


@bp.route("/account/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password with the link from the e-mail (single use, one hour)."""
    errors: dict[str, list[str]] = {}
    status = 200
    with runtime().db.session() as s:
        try:
            accounts.check_password_reset(s, token)
        except CGDError:
            response = render_template("account/reset_password.html", invalid=True, errors={})
            return response, 400, {"Cache-Control": "no-store"}
    if request.method == "POST":
        try:
            new = _confirmed_new_password()
            with runtime().db.session() as s:
                accounts.reset_password(s, token, new)
        except CGDError as err:
            errors, status = _problems_by_field(err), err.status
        else:
            _end_browser_session()
            logout_user()
            session.clear()
            return redirect(url_for("auth.sign_in", reset="done"))
    response = render_template("account/reset_password.html", invalid=False, errors=errors)
    return response, status, {"Cache-Control": "no-store"}


@bp.get("/account")
@login_required
def account():
    """The signed-in person's organisations and links to tokens and applications."""
    with runtime().db.session() as s:
        orgs = accounts.memberships(s, _user_principal())
    return render_template("account/account.html", memberships=orgs)


# --- password and signed-in browsers ------------------------------------------


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)

_MAJOR_VERSION = re.compile(r"\s*([^.\s]*)")


def _browser_label(user_agent: str) -> str:
    """'Firefox 128 on Linux' from a User-Agent, for a person to recognise their browsers;
    the raw text when it names no browser we know (a script, curl)."""
    found = next(((t, name) for t, name in _BROWSERS if t in user_agent), None)
    if found is None:
        return user_agent[:60] or _("Unknown browser")
    token, name = found
    # The major version: what follows the token up to a dot or a space (may be nothing).
    version = _MAJOR_VERSION.match(user_agent.split(token, 1)[1]).group(1)
    browser = f"{name} {version}".strip()
    system = next((name for t, name in _SYSTEMS if t in user_agent), None)
    return _("%(browser)s on %(system)s", browser=browser, system=system) if system else browser


def _session_rows(principal: Principal) -> list[dict]:
    """This person's signed-in browsers for the security page, this one marked."""
    mine = token_service.digest(current_user.session_secret)
    with runtime().db.session() as s:
        return [
            {
                "id": row.id,
                "browser": _browser_label(row.user_agent or ""),
                "created_at": row.created_at,
                "last_seen_at": row.last_seen_at,
                "current": row.secret_hash == mine,
            }
            for row in accounts.list_sessions(s, principal.user_id)
        ]


@bp.route("/account/security", methods=["GET", "POST"])
@login_required
def security():
    """Change the password (the other browsers are signed out) and see or end sessions."""
    principal = _user_principal()
    errors: dict[str, list[str]] = {}
    status = 200
    changed = None
    if request.method == "POST":
        try:
            new = _confirmed_new_password()
            with runtime().db.session() as s:
                changed = accounts.change_password(
                    s,
                    principal,
                    current=request.form.get("current_password", ""),
                    new=new,
                    keep_session=current_user.session_secret,
                )
        except CGDError as err:
            errors, status = _problems_by_field(err), err.status
    return (
        render_template(
            "account/security.html",
            sessions=_session_rows(principal),
            changed=changed,
            errors=errors,
        ),
        status,
    )


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """Sign out one of your other browsers (a lost phone, a shared computer)."""
    with runtime().db.session() as s:
        accounts.end_own_session(s, _user_principal(), session_id)
    return redirect(url_for("auth.security"))


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    """Sign out every browser but this one."""
    principal = _user_principal()
    with runtime().db.session() as s:
        accounts.revoke_sessions(s, principal, principal.user_id, keep=current_user.session_secret)
    return redirect(url_for("auth.security"))


# --- personal access tokens -------------------------------------------------


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """List, create (value shown once) personal access tokens with expiry, scopes and organisations."""
    principal = _user_principal()
    errors: dict[str, list[str]] = {}
    created = None
    status = 200
    if request.method == "POST":
        try:
            with runtime().db.session() as s:
                row, raw = token_service.create_personal_token(
                    s,
                    principal,
                    name=request.form.get("name", ""),
                    scopes=_form_list("scopes"),
                    organisation_ids=_form_ints("organisations"),
                    expires_in_days=int(request.form.get("expires_in_days") or 0),
                )
                created = {"name": row.name, "value": raw, "expires_at": row.expires_at}
            status = 201
        except ValueError:
            errors, status = {"expires_in_days": [_("Enter a number of days.")]}, 400
        except CGDError as err:
            errors, status = _problems_by_field(err), err.status
    with runtime().db.session() as s:
        rows = token_service.list_personal_tokens(s, principal)
        orgs = accounts.memberships(s, principal)
        names = {o.id: o.name for o, _ in orgs}
        listed = [
            {
                "id": t.id,
                "name": t.name,
                "scopes": t.scopes,
                "organisations": [names.get(int(o), str(o)) for o in t.organisation_ids or []],
                "expires_at": t.expires_at,
                "active": t.active,
                "last_used_at": t.last_used_at,
            }
            for t in rows
        ]
    return (
        render_template(
            "account/tokens.html",
            tokens=listed,
            memberships=orgs,
            scopes=SCOPES,
            scope_labels=SCOPE_LABELS,
            created=created,
            errors=errors,
            form=request.form,
        ),
        status,
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    with runtime().db.session() as s:
        token_service.revoke_personal_token(s, _user_principal(), token_id)
    return redirect(url_for("auth.tokens"))


# --- organisation admin: applications, members, invitations ------------------


def _organisation(s, slug: str) -> Organisation:
    return organisations.get_organisation(s, slug)


def _admin_form_post(act: Callable[[Any], Any]) -> tuple[Any, dict[str, list[str]], int]:
    """An organisation admin's form: ``act(session)`` in its own unit of work.

    (what it returns, no errors, 201), or (None, the problems by field, the error's status);
    a PermissionDenied is not a form problem and propagates (403 page).
    """
    try:
        with runtime().db.session() as s:
            result = act(s)
        return result, {}, 201
    except PermissionDenied:
        raise
    except CGDError as err:
        return None, _problems_by_field(err), err.status


@bp.route("/orgs/<slug>/clients", methods=["GET", "POST"])
@login_required
def clients(slug: str):
    """An organisation's registered applications; admins register new ones (secret shown once)."""
    principal = _user_principal()
    errors: dict[str, list[str]] = {}
    created = None
    status = 200
    if request.method == "POST":

        def register(s):
            client, secret = client_service.register_client(
                s,
                principal,
                _organisation(s, slug),
                name=request.form.get("name", ""),
                redirect_uris=request.form.get("redirect_uris", "").split(),
                scopes=_form_list("scopes"),
                confidential=request.form.get("kind", "confidential") == "confidential",
            )
            return {"name": client.name, "client_id": client.client_id, "secret": secret}

        created, errors, status = _admin_form_post(register)
    with runtime().db.session() as s:
        org = _organisation(s, slug)
        rows = client_service.list_clients(s, principal, org)
        listed = [
            {
                "client_id": c.client_id,
                "name": c.name,
                "confidential": c.is_confidential,
                "scopes": c.scope.split(),
                "redirect_uris": c.redirect_uris,
                "revoked": c.revoked,
            }
            for c in rows
        ]
        org_view = {"slug": org.slug, "name": org.name}
    return (
        render_template(
            "account/clients.html",
            org=org_view,
            clients=listed,
            created=created,
            scopes=SCOPES,
            scope_labels=SCOPE_LABELS,
            errors=errors,
            form=request.form,
        ),
        status,
    )


@bp.post("/orgs/<slug>/clients/<client_id>/revoke")
@login_required
def revoke_client(slug: str, client_id: str):
    with runtime().db.session() as s:
        client_service.revoke_client(s, _user_principal(), client_id)
    return redirect(url_for("auth.clients", slug=slug))


# The roles as people read them (the same words as the pages' role_name macro).
_ROLE_NAMES: dict[str, Callable[[], str]] = {
    "admin": lambda: _("administrator"),
    "publisher": lambda: _("publisher"),
    "editor": lambda: _("editor"),
    "member": lambda: _("member"),
}


def _mail_invitation(invited: dict[str, str]) -> str | None:
    """E-mail an invitation's link: "smtp", "outbox" (no mail server set up) or None (failed)."""
    try:
        where = mail.send(
            current_app.config,
            to=invited["email"],
            subject=_("Invitation to %(org)s", org=invited["organisation"]),
            body=_(
                "You are invited to join %(org)s on %(site)s as %(role)s.\n\n"
                "Sign in or create an account with this e-mail address, then open:\n"
                "%(link)s\n\nThe invitation expires in %(days)s days.",
                org=invited["organisation"],
                site=current_app.config["BASE_URL"],
                role=_ROLE_NAMES.get(invited["role"], lambda: invited["role"])(),
                link=invited["link"],
                days=number(invitations.INVITATION_DAYS),
            ),
        )
    except mail.MailNotSent:
        return None
    return "smtp" if where == "smtp" else "outbox"


@bp.route("/orgs/<slug>/members", methods=["GET", "POST"])
@login_required
def members(slug: str):
    """Members and open invitations; an admin invites by e-mail (the link is shown once)."""
    principal = _user_principal()
    errors: dict[str, list[str]] = {}
    invited = None
    status = 200
    if request.method == "POST":

        def invite(s):
            org = _organisation(s, slug)
            invitation, raw = invitations.invite(
                s,
                principal,
                org,
                email=request.form.get("email", ""),
                role=request.form.get("role", ""),
            )
            return {
                "email": invitation.email,
                "role": invitation.role,
                "link": _public_url("auth.accept_invitation", token=raw),
                "organisation": org.name,
            }

        invited, errors, status = _admin_form_post(invite)
        if invited:  # mailed after the commit: a slow mail server holds no transaction open
            invited["mailed"] = _mail_invitation(invited)
    with runtime().db.session() as s:
        org = _organisation(s, slug)
        people = [
            {"id": u.id, "email": u.email, "name": u.name, "role": r}
            for u, r in invitations.list_members(s, principal, org)
        ]
        pending = [
            {"email": i.email, "role": i.role, "expires_at": i.expires_at}
            for i in invitations.list_invitations(s, principal, org)
        ]
        org_view = {"slug": org.slug, "name": org.name}
    return (
        render_template(
            "account/members.html",
            org=org_view,
            members=people,
            invitations=pending,
            invited=invited,
            roles=[r.value for r in Role],
            errors=errors,
            form=request.form,
        ),
        status,
    )


@contextmanager
def _conflict_in_page_language() -> Iterator[None]:
    """A Conflict from a member action (the last administrator) shown in the page's language."""
    try:
        yield
    except Conflict as err:
        raise Conflict(_problem_text(err.code, None, err.message), code=err.code) from None


@bp.post("/orgs/<slug>/members/<int:user_id>/role")
@login_required
def change_role(slug: str, user_id: int):
    """An organisation admin changes a member's role."""
    with runtime().db.session() as s:
        org = _organisation(s, slug)
        user = organisations.get_member(s, _user_principal(), org, user_id)
        role = request.form.get("role", "")
        if role not in {r.value for r in Role}:
            raise InvalidInput(_("Choose a role from the list."), code="invalid_choice")
        with _conflict_in_page_language():
            organisations.set_membership(s, _user_principal(), org, user, role)
    return redirect(url_for("auth.members", slug=slug))


@bp.post("/orgs/<slug>/members/<int:user_id>/remove")
@login_required
def remove_member(slug: str, user_id: int):
    """An organisation admin removes a member (never the last administrator)."""
    with runtime().db.session() as s:
        org = _organisation(s, slug)
        user = organisations.get_member(s, _user_principal(), org, user_id)
        with _conflict_in_page_language():
            organisations.remove_membership(s, _user_principal(), org, user)
    return redirect(url_for("auth.members", slug=slug))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    """The invited person, signed in with the invited e-mail, joins the organisation."""
    principal = _user_principal()
    with runtime().db.session() as s:
        invitation = invitations.get_invitation(s, token)
        org = s.get(Organisation, invitation.organisation_id)
        view = {
            "organisation": org.name,
            "slug": org.slug,
            "role": invitation.role,
            "email": invitation.email,
        }
        if request.method == "POST":
            invitations.accept(s, principal, token)
            return redirect(url_for("auth.account"))
    return render_template("account/invitation.html", invitation=view)


# --- OAuth2 authorisation endpoint with its consent page ---------------------


@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize():
    """Ask the signed-in person to grant an application scopes for chosen organisations."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in", next=request.full_path))
    server = authorization_server()
    principal = _user_principal()
    end_user = GrantUser(principal.user_id, ())
    try:
        grant = server.get_consent_grant(end_user=end_user)
    except OAuth2Error as err:
        if err.redirect_uri and err.error != "invalid_client":
            # A valid client and redirect URI: the error goes back to the application.
            err.state = request.args.get("state")
            return server.handle_error_response(None, err)
        return render_template(
            "account/consent_error.html", error=err.description or err.error
        ), 400
    if request.method == "GET":
        with runtime().db.session() as s:
            orgs = accounts.memberships(s, principal)
            choices = [{"id": o.id, "name": o.name, "role": r} for o, r in orgs]
        wanted = (grant.request.payload.scope or "").split()
        return render_template(
            "account/consent.html",
            client={"name": grant.client.name, "client_id": grant.client.client_id},
            scopes=[(s_, SCOPE_LABELS.get(s_, s_)) for s_ in wanted],
            organisations=choices,
        )
    if request.form.get("decision") != "allow":
        return server.create_authorization_response(grant=grant, grant_user=None)
    with runtime().db.session() as s:
        own = {o.id for o, _ in accounts.memberships(s, principal)}
    asked = set(_form_ints("organisations"))
    if not asked <= own:
        raise PermissionDenied(
            _("You can only grant organisations you belong to."), code="organisation_not_member"
        )
    chosen = tuple(sorted(asked))
    return server.create_authorization_response(
        grant=grant, grant_user=GrantUser(principal.user_id, chosen)
    )
