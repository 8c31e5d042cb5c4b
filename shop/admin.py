"""The email outbox in the back office, and the pages several apps build together.

Users and orders each have one admin class made of several apps' parts (accounts' users with
orders' columns, orders with payments' inline and refund action). Each app extends the class
of the app below it, and the final class is registered here, once, so nothing is registered
and then replaced.
"""

from django.contrib import admin, messages
from django.utils.text import Truncator

from accounts.models import User
from orders.admin import CustomerAdmin
from orders.models import Order
from payments.admin import OrderWithPaymentsAdmin
from shop.emails import STUCK_AFTER, email_resend
from shop.models import Email

admin.site.register(User, CustomerAdmin)
admin.site.register(Order, OrderWithPaymentsAdmin)

HIDDEN_BODY = "(hidden: it holds a password-reset link, which is as good as the password)"


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ("created", "recipient", "kind", "reference", "status", "attempts", "error")
    list_filter = ("status", "kind")
    search_fields = ("recipient", "=reference")
    date_hierarchy = "created"
    fields = (
        ("created", "sent_at"),
        ("status", "attempts"),
        "last_error",
        "recipient",
        ("kind", "reference"),
        "subject",
        "shown_body",
        "shown_html_body",
    )
    actions = ["resend"]

    # A record of what was sent: never written to here, only resent through the action.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        return request.user.has_perm("shop.resend_email")

    def get_readonly_fields(self, request, obj=None):
        return [name for row in self.fields for name in (row if isinstance(row, tuple) else [row])]

    @admin.display(description="last error")
    def error(self, obj):
        return Truncator(obj.last_error).chars(80)

    @admin.display(description="body")
    def shown_body(self, obj):
        return HIDDEN_BODY if obj.secret else obj.body

    @admin.display(description="HTML body")
    def shown_html_body(self, obj):
        # Its source, which the admin escapes: rendered here, an email's HTML would run inside
        # the back office (and the page's content security policy strips its inline styles).
        if obj.secret:
            return HIDDEN_BODY
        return obj.html_body or "(none: sent as plain text only)"

    @admin.action(
        description="Resend selected emails (failed, or stuck sending)", permissions=["resend"]
    )
    def resend(self, request, queryset):
        done, refused = [], []
        for email in queryset.order_by("pk"):
            (done if email_resend(email) else refused).append(email)
        if done:
            self.message_user(request, f"Queued again: {len(done)} email(s).", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"Not resent: {len(refused)} email(s) queued or sent already, or being sent for "
                f"less than {STUCK_AFTER.seconds // 60} minutes (a worker may still send them).",
                messages.WARNING,
            )
