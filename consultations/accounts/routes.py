from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..forms import choices
from ..http import fail, page_number, safe_next
from ..organisations.services import OrganisationError, all_organisations_choices, create_organisation
from ..permissions import can_manage_users
from . import services
from .forms import LoginForm, PasswordChangeForm, RegisterForm, UserAdminForm, UserSearchForm
from .models import User

bp = Blueprint("accounts", __name__)


def _start_session(user: User) -> None:
    # A fresh session at login: nothing from before it carries over.
    session.clear()
    session.permanent = True
    login_user(user)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            organisation = None
            if form.acts_as.data == "organisation":
                organisation = create_organisation(
                    form.organisation_name.data,
                    form.organisation_category.data,
                    form.governance_level.data or None,
                )
            user = services.register_user(
                form.email.data,
                form.display_name.data,
                form.password.data,
                organisation=organisation,
                individual_category=form.individual_category.data or "other",
            )
        except (services.AccountError, OrganisationError) as exc:
            db.session.rollback()
            getattr(form, exc.field or "email").errors.append(str(exc))
        else:
            db.session.commit()
            _start_session(user)
            flash("Welcome to Mesa. Your account is ready.", "success")
            return redirect(url_for("main.home"))
    return render_template("accounts/register.html", form=form), (422 if form.errors else 200)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user)
            flash("You are logged in.", "success")
            return redirect(safe_next(request.args.get("next"), url_for("main.home")))
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
    flash("You are logged out.", "info")
    return redirect(url_for("main.home"))


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
            flash("Your password was changed. Other sessions were logged out.", "success")
            return redirect(url_for("accounts.account"))
    return render_template("accounts/account.html", form=form), (422 if form.errors else 200)


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
            form.role.errors.append("You are the last administrator: keep this role.")
        else:
            services.set_role(user, form.role.data)
            user.organisation_id = form.organisation_id.data or None
            db.session.commit()
            flash(f"Saved {user.display_name}.", "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/edit_user.html", form=form, user=user), (422 if form.errors else 200)
