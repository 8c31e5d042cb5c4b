"""Account URLs: Django's auth views with the store's templates, registration, address book."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views
from accounts.forms import LoginForm, OutboxPasswordResetForm
from shop.ratelimits import limit, limit_by_email

app_name = "accounts"

urlpatterns = [
    path("", views.AccountView.as_view(), name="account"),
    path("addresses/", views.AddressListView.as_view(), name="address_list"),
    path("addresses/add/", views.address_add_view, name="address_add"),
    path("addresses/<int:pk>/edit/", views.address_edit_view, name="address_edit"),
    path("addresses/<int:pk>/delete/", views.address_delete_view, name="address_delete"),
    path(
        "addresses/<int:pk>/default/",
        views.address_make_default_view,
        name="address_make_default",
    ),
    path("register/", limit("register")(views.register), name="register"),
    path(
        "login/",
        limit("login_ip")(
            limit_by_email("login_account", "username")(
                auth_views.LoginView.as_view(
                    template_name="accounts/login.html",
                    authentication_form=LoginForm,
                    redirect_authenticated_user=True,
                )
            )
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            success_url=reverse_lazy("accounts:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        limit("password_reset")(
            limit_by_email("password_reset", "email")(
                auth_views.PasswordResetView.as_view(
                    template_name="accounts/password_reset.html",
                    form_class=OutboxPasswordResetForm,
                    email_template_name="accounts/email/password_reset.txt",
                    subject_template_name="accounts/email/password_reset_subject.txt",
                    success_url=reverse_lazy("accounts:password_reset_done"),
                    extra_email_context={"site_name": settings.STORE_NAME},
                )
            )
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
