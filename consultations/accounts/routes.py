from __future__ import annotations

import hashlib
import json
import time

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from ..audit.services import record
from ..extensions import db, limiter
from ..forms import choices
from ..http import fail, page_number, safe_next
from ..organisations.services import OrganisationError, all_organisations_choices
from ..permissions import can_manage_users
from . import services
from .forms import (
    DeleteAccountForm,
    ExportDataForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordChangeForm,
    RegisterForm,
    ResetPasswordForm,
    UserAdminForm,
    UserSearchForm,
)
from .models import User
from flask_babel import gettext as _

from ..reference import N_

bp = Blueprint("accounts", __name__)

CHECK_YOUR_EMAIL = N_(
    "Check your e-mail: we have sent a message to %(email)s with what to do next. "
    "It can take a few minutes; look in the spam folder too."
)
RESET_SENT = N_(
    "If an account uses %(email)s, we have sent it a link to choose a new password. "
    "It can take a few minutes; look in the spam folder too."
)


# -- throttling ---------------------------------------------------------------------
# Keys: the network address, and the e-mail address typed in the form (hashed, so that the
# limiter's storage holds no addresses). Unknown and known e-mails are throttled alike.

def _address_key() -> str:
    return "address:" + get_remote_address()


def _account_key() -> str:
    email = services.normalise_email(request.form.get("email", ""))
    return "account:" + hashlib.sha256(email.encode("utf-8")).hexdigest()


def _config_limit(name: str):
    return lambda: current_app.config[name]


def _failed(response) -> bool:
    """Only failed logins count: a success redirects, and an attempt refused with 429
    (or that met a server error) checked no password, so it does not use up the other
    limit either: the first 429 comes exactly after the configured number of failures."""
    status = response.status_code
    return status != 302 and status != 429 and status < 500


def _start_session(user: User) -> None:
    # A fresh session at login: nothing from before it carries over.
    session.clear()
    session.permanent = True
    session["login_at"] = int(time.time())  # for the absolute lifetime (web.load_user)
    login_user(user)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_config_limit("MESA_LIMIT_REGISTER_ADDRESS"), key_func=_address_key, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        as_org = form.acts_as.data == "organisation"
        try:
            services.request_registration(
                form.email.data,
                form.display_name.data,
                form.password.data,
                organisation_name=form.organisation_name.data if as_org else None,
                organisation_category=form.organisation_category.data if as_org else None,
                governance_level=form.governance_level.data if as_org else None,
                individual_category=form.individual_category.data or "other",
            )
        except (services.AccountError, OrganisationError) as exc:
            db.session.rollback()
            getattr(form, exc.field or "email").errors.append(str(exc))
        else:
            db.session.commit()
            # The same answer whether or not the address already had an account.
            flash(_(CHECK_YOUR_EMAIL, email=form.email.data), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/register.html", form=form), (422 if form.errors else 200)


@bp.get("/register/confirm/<token>")
def confirm_email(token: str):
    user = services.confirm_email(token)
    if user is None:
        db.session.rollback()
        return render_template("accounts/link_expired.html", purpose="confirm_email"), 404
    db.session.commit()
    flash(_("Your e-mail address is confirmed. You can log in."), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_config_limit("MESA_LIMIT_LOGIN_ACCOUNT"), key_func=_account_key, methods=["POST"], deduct_when=_failed)
@limiter.limit(_config_limit("MESA_LIMIT_LOGIN_ADDRESS"), key_func=_address_key, methods=["POST"], deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None and not user.email_confirmed:
            # Only someone who knows the password learns this.
            form.email.errors.append(_(
                "Confirm your e-mail address first: open the link we sent you. "
                "Lost it? Register again with the same address to get a new one."
            ))
        elif user is not None:
            _start_session(user)
            flash(_("You are logged in."), "success")
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
        else:
            form.password.errors.append("E-mail or password is not right.")
    return render_template("accounts/login.html", form=form), (422 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    # Rotating the token makes any copy of the old session cookie useless.
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_config_limit("MESA_LIMIT_MAIL_ACCOUNT"), key_func=_account_key, methods=["POST"])
@limiter.limit(_config_limit("MESA_LIMIT_MAIL_ADDRESS"), key_func=_address_key, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_(RESET_SENT, email=form.email.data), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), (422 if form.errors else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_config_limit("MESA_LIMIT_MAIL_ADDRESS"), key_func=_address_key, methods=["POST"])
def reset_password(token: str):
    if services.valid_token(token, "reset_password") is None:
        return render_template("accounts/link_expired.html", purpose="reset_password"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.new_password.data)
        except services.AccountError as exc:
            db.session.rollback()
            getattr(form, exc.field or "new_password").errors.append(str(exc))
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Your password was changed, and every session of your account was ended. Log in with the new password."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), (422 if form.errors else 200)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
        except services.AccountError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(str(exc))
        else:
            db.session.commit()
            _start_session(current_user._get_current_object())
            flash(_("Your password was changed. Other sessions were logged out."), "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form, export_form=ExportDataForm()), (422 if form.errors else 200)


@bp.post("/account/data")
@login_required
def export_data():
    form = ExportDataForm()
    if not form.validate_on_submit():
        fail(400)
    user = current_user._get_current_object()
    data = services.export_personal_data(user)
    record(user, "account.data_exported", target=user)
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="mesa-my-data-{user.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    refusal = services.deletion_refusal(user)
    if form.validate_on_submit() and refusal is None:
        if not user.check_password(form.password.data):
            form.password.errors.append(_("The password is not right."))
        else:
            try:
                counts = services.delete_account(user, keep_contributions=form.contributions.data == "keep")
            except services.AccountError as exc:
                db.session.rollback()
                form.confirm.errors.append(str(exc))
            else:
                db.session.commit()
                logout_user()
                session.clear()
                if form.contributions.data == "keep":
                    message = _("Your account was deleted. %(count)s contribution(s) stay, without author.", count=counts["kept"])
                else:
                    message = _("Your account was deleted, with %(count)s contribution(s).", count=counts["deleted"])
                flash(message, "info")
                return redirect(url_for("main.home"))
    status = 422 if form.errors else (409 if refusal and request.method == "POST" else 200)
    return render_template("accounts/delete_account.html", form=form, refusal=refusal), status


@bp.get("/admin/users")
@login_required
def users():
    if not can_manage_users(current_user):
        fail(403)
    search = UserSearchForm(request.args)
    q = search.q.data if search.validate() else None
    pagination = db.paginate(
        services.search_users(q),
        page=page_number(request.args.get("page")),
        per_page=50,
        error_out=False,
    )
    return render_template("accounts/users.html", pagination=pagination, search=search)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int):
    if not can_manage_users(current_user):
        fail(403)
    user = db.get_or_404(User, user_id)
    form = UserAdminForm(obj=user if request.method == "GET" else None)
    form.organisation_id.choices = choices([(0, "— acts as an individual —"), *all_organisations_choices()])
    if request.method == "GET":
        form.organisation_id.data = user.organisation_id or 0
    if form.validate_on_submit():
        if user.id == current_user.id and form.role.data != "admin" and services.count_admins() <= 1:
            form.role.errors.append(_("You are the last administrator: keep this role."))
        else:
            old_role, old_org = user.role, user.organisation_id
            services.set_role(user, form.role.data)
            user.organisation_id = form.organisation_id.data or None
            if user.role != old_role:
                record(current_user, "user.role_changed", target=user, old=old_role, new=user.role)
            if user.organisation_id != old_org:
                record(
                    current_user, "user.organisation_changed", target=user,
                    old=old_org, new=user.organisation_id,
                )
            db.session.commit()
            flash(_("Saved %(name)s.", name=user.display_name), "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/edit_user.html", form=form, user=user), (422 if form.errors else 200)
