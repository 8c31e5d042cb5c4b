"""Project-wide views: the page shown when a form's CSRF check fails."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    # The reason is for developers (it is in the log); shoppers get a page that says what to do.
    return render(request, "403_csrf.html", status=403)
