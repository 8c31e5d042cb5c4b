"""The email outbox: queued with the change, sent by the real worker, retried, resent by staff.

The worker tests run `manage.py db_worker` as a process against the test database (committed
rows, hence transaction=True) and SMTP servers on loopback: one that accepts and never answers,
as in the incident, and a working one (aiosmtpd) that counts what it is given.
"""

import json
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tests.factories import UserFactory, catalog_manager, order_manager
from catalog.tests.factories import ProductFactory
from orders.models import Order, OrderStatus
from orders.services import order_transition
from orders.tests.factories import checkout_page_fields, fill_cart, place_order
from shop.emails import STUCK_AFTER, email_queue, email_resend
from shop.models import Email, EmailStatus
from shop.tests.outbox import (
    ROOT,
    MailServer,
    SilentMailServer,
    deliver_queued,
    free_port,
    run_worker,
    start_worker,
    worker_env,
)

CHANGELIST = reverse("admin:shop_email_changelist")


def tasks_for(email):
    return DBTaskResult.objects.filter(
        task_path="shop.emails.send_email", args_kwargs__args=[email.pk]
    )


def logs(output):
    lines = []
    for line in output.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def checkout(client):
    fields = checkout_page_fields(client)
    started = time.monotonic()
    response = client.post(reverse("orders:checkout"), fields)
    return response, time.monotonic() - started


# --- Queued with the change ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_email_is_written_in_the_transaction_of_its_change_and_rolled_back_with_it():
    order = place_order([(ProductFactory(), 1)])

    inside = []

    def change_that_fails():
        with transaction.atomic():
            order_transition(order=order, to=OrderStatus.PAID, source="test")
            # Already there inside the transaction, the email and its task: written by it.
            email = Email.objects.get(kind="order_paid", reference=order.number)
            inside.append((email, tasks_for(email).count()))
            raise RuntimeError("the change fails after the email was queued")

    with pytest.raises(RuntimeError):
        change_that_fails()

    [(email, tasks)] = inside
    assert tasks == 1

    assert not Email.objects.filter(kind="order_paid").exists()
    assert not DBTaskResult.objects.filter(args_kwargs__args=[email.pk]).exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT


@pytest.mark.django_db
def test_checkout_queues_the_order_email_and_sends_nothing_itself(client):
    shopper = UserFactory(email="ada@example.com")
    client.force_login(shopper)
    fill_cart(shopper, [(ProductFactory(name="Lamp"), 1)])

    response, _ = checkout(client)

    assert response.status_code == 307
    order = Order.objects.get()
    email = Email.objects.get()
    assert (email.kind, email.reference, email.recipient) == (
        "order_placed",
        order.number,
        "ada@example.com",
    )
    assert email.status == EmailStatus.QUEUED
    assert "1 × Lamp" in email.body
    assert mail.outbox == []

    deliver_queued()

    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert order.number in mail.outbox[0].subject
    assert Email.objects.get().status == EmailStatus.SENT


@pytest.mark.django_db
def test_a_second_task_for_one_email_sends_nothing_more():
    email = email_queue(to="ada@example.com", subject="Hello", body="Hi", kind="test")
    # What a resend racing the first send would leave: two tasks for one email.
    from shop.emails import send_email

    send_email.enqueue(email.pk)

    deliver_queued()

    assert len(mail.outbox) == 1
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == [
        "sent",
        "skipped: sent",
    ]


@pytest.mark.django_db
def test_a_password_reset_email_is_queued_its_body_hidden_from_staff_and_blanked_once_sent(
    client, admin_client
):
    UserFactory(email="grace@example.com")

    client.post(reverse("accounts:password_reset"), {"email": "grace@example.com"})

    email = Email.objects.get()
    assert (email.kind, email.recipient, email.secret) == (
        "password_reset",
        "grace@example.com",
        True,
    )
    link = re.search(r"/accounts/password/reset/[^/\s]+/[^/\s]+/", email.body).group(0)
    assert mail.outbox == []
    page = admin_client.get(reverse("admin:shop_email_change", args=[email.pk])).content.decode()
    assert "grace@example.com" in page
    assert link not in page
    assert "hidden" in page

    deliver_queued()

    assert link in mail.outbox[0].body
    assert Email.objects.get().body == ""


@pytest.mark.django_db
def test_an_email_with_html_goes_out_with_it_as_the_alternative_and_one_without_as_text(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    html = "<!DOCTYPE html><html><body><p>Hi</p></body></html>"
    email_queue(to="ada@example.com", subject="Both", body="Hi", html_body=html, kind="test")
    email_queue(to="grace@example.com", subject="Text", body="Hi", kind="test")

    deliver_queued()

    both, text = sorted(mail.outbox, key=lambda message: message.subject)
    assert (both.body, [tuple(alt) for alt in both.alternatives]) == ("Hi", [(html, "text/html")])
    assert [part.get_content_type() for part in both.message().get_payload()] == [
        "text/plain",
        "text/html",
    ]
    assert (text.body, text.alternatives) == ("Hi", [])
    assert text.message().get_content_type() == "text/plain"


@pytest.mark.django_db
def test_a_secret_email_has_its_text_and_its_html_blanked_once_sent():
    link = "https://shop.example.com/accounts/password/reset/MQ/set-password/"
    secret = email_queue(
        to="ada@example.com",
        subject="Reset",
        body=f"Follow {link}",
        html_body=f'<p><a href="{link}">Reset</a></p>',
        kind="password_reset",
        secret=True,
    )
    kept = email_queue(
        to="ada@example.com", subject="Hello", body="Hi", html_body="<p>Hi</p>", kind="test"
    )

    deliver_queued()

    assert link in mail.outbox[0].body
    assert link in mail.outbox[0].alternatives[0].content
    secret.refresh_from_db()
    kept.refresh_from_db()
    assert (secret.status, secret.body, secret.html_body) == (EmailStatus.SENT, "", "")
    assert (kept.status, kept.body, kept.html_body) == (EmailStatus.SENT, "Hi", "<p>Hi</p>")


# --- The back office ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_order_managers_find_emails_by_order_number_and_status(client):
    client.force_login(order_manager())
    mine = email_queue(
        to="a@example.com", subject="s", body="b", kind="order_paid", reference="ABCDE-FGH23"
    )
    email_queue(
        to="b@example.com", subject="s", body="b", kind="order_paid", reference="ZZZZZ-ZZZZZ"
    )
    Email.objects.filter(pk=mine.pk).update(
        status=EmailStatus.FAILED, last_error="TimeoutError: timed out"
    )

    by_reference = client.get(CHANGELIST, {"q": "ABCDE-FGH23"})
    failed = client.get(CHANGELIST, {"status__exact": "failed"})

    assert [e.pk for e in by_reference.context["cl"].result_list] == [mine.pk]
    assert [e.pk for e in failed.context["cl"].result_list] == [mine.pk]
    assert "TimeoutError: timed out" in failed.content.decode()
    detail = client.get(reverse("admin:shop_email_change", args=[mine.pk])).content.decode()
    assert 'name="subject"' not in detail  # read-only


@pytest.mark.django_db
def test_staff_see_an_emails_html_as_escaped_source_and_never_a_secret_ones(client):
    client.force_login(order_manager())
    shown = email_queue(
        to="ada@example.com",
        subject="Hello",
        body="Hi",
        html_body='<p onclick="steal()">Hi <script>steal()</script></p>',
        kind="order_paid",
    )
    text_only = email_queue(to="ada@example.com", subject="Hello", body="Hi", kind="test")
    secret = email_queue(
        to="ada@example.com",
        subject="Reset",
        body="Follow /accounts/password/reset/MQ/set-password/",
        html_body='<a href="/accounts/password/reset/MQ/set-password/">Reset</a>',
        kind="password_reset",
        secret=True,
    )

    def page(email):
        return client.get(reverse("admin:shop_email_change", args=[email.pk])).content.decode()

    html = page(shown)
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert "<script>steal()" not in html
    assert 'onclick="steal()"' not in html
    assert "(none: sent as plain text only)" in page(text_only)
    secret_page = page(secret)
    assert "/accounts/password/reset/MQ/" not in secret_page
    assert secret_page.count("(hidden: it holds a password-reset link") == 2


@pytest.mark.django_db
def test_catalog_managers_do_not_see_the_emails(client):
    client.force_login(catalog_manager())
    assert client.get(CHANGELIST).status_code == 403


@pytest.mark.django_db
def test_resend_queues_failed_and_stuck_emails_and_refuses_the_rest(client):
    client.force_login(order_manager())
    make = lambda **fields: Email.objects.create(  # noqa: E731
        recipient="a@example.com", subject="s", body="b", kind="test", **fields
    )
    failed = make(status=EmailStatus.FAILED, attempts=5, last_error="TimeoutError")
    stuck = make(status=EmailStatus.SENDING, attempts=1)
    Email.objects.filter(pk=stuck.pk).update(updated=timezone.now() - STUCK_AFTER - timedelta(1))
    sending = make(status=EmailStatus.SENDING, attempts=1)
    sent = make(status=EmailStatus.SENT, attempts=1)

    response = client.post(
        CHANGELIST,
        {"action": "resend", "_selected_action": [failed.pk, stuck.pk, sending.pk, sent.pk]},
        follow=True,
    )

    html = response.content.decode()
    assert "Queued again: 2 email(s)." in html
    assert "Not resent: 2 email(s)" in html
    statuses = dict(Email.objects.values_list("pk", "status"))
    assert statuses == {
        failed.pk: EmailStatus.QUEUED,
        stuck.pk: EmailStatus.QUEUED,
        sending.pk: EmailStatus.SENDING,
        sent.pk: EmailStatus.SENT,
    }
    assert Email.objects.get(pk=failed.pk).attempts == 0  # a new round of tries
    assert [tasks_for(e).count() for e in (failed, stuck, sending, sent)] == [1, 1, 0, 0]

    deliver_queued()
    assert len(mail.outbox) == 2


# --- Settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "timeout"),
    [
        ({"EMAIL_URL": "smtp://mail.example.com:587"}, 10.0),
        ({"EMAIL_URL": "smtp://mail.example.com:587?timeout=3"}, 3.0),
        ({"EMAIL_URL": "smtp://mail.example.com:587?timeout=3", "EMAIL_TIMEOUT": "2.5"}, 2.5),
    ],
)
def test_the_smtp_backend_gets_its_timeout_from_the_environment(env, timeout):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.core.mail import "
         "get_connection; print(get_connection().timeout)"],
        cwd=ROOT,
        env={**worker_env(**env), "DJANGO_SETTINGS_MODULE": "shop.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert result.stdout.strip() == str(timeout), result.stderr


def test_an_email_url_option_the_backend_would_ignore_stops_start_up():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=worker_env(EMAIL_URL="smtp://mail.example.com:587?tiemout=3"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "EMAIL_URL has options the mail backend does not read: tiemout" in result.stderr


# --- The real worker ----------------------------------------------------------------------------


@pytest.fixture
def hung_server():
    server = SilentMailServer()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_hung_mail_server_slows_no_checkout_and_every_email_goes_once_it_is_back(
    client, settings, hung_server
):
    # The store's own process would wait EMAIL_TIMEOUT on this server, were it to send mail.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        hung_server.port,
        5,
    )
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    shopper = UserFactory(email="ada@example.com")
    UserFactory(email="grace@example.com")
    client.force_login(shopper)
    fill_cart(shopper, [(ProductFactory(name="Lamp"), 1)])

    response, took = checkout(client)
    order = Order.objects.get()
    order_transition(order=order, to=OrderStatus.PAID, source="payment provider")
    client.post(reverse("accounts:password_reset"), {"email": "grace@example.com"})

    assert response.status_code == 307
    assert took < 2, f"checkout took {took:.1f} s with a hung mail server"
    assert hung_server.connections == []  # no request so much as connected
    assert Email.objects.filter(status=EmailStatus.QUEUED).count() == 3

    mail_url = f"smtp://127.0.0.1:{hung_server.port}"
    output = run_worker(EMAIL_URL=mail_url, EMAIL_TIMEOUT="1", EMAIL_RETRY_DELAYS="60,300")

    started = timezone.now()
    for email in Email.objects.all():
        assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
        assert email.last_error.endswith("timed out")
        retry = tasks_for(email).get(status="READY")
        assert timedelta(seconds=50) < retry.run_after - started < timedelta(seconds=61)
    warnings = [line for line in logs(output) if line.get("logger") == "shop.emails"]
    assert len(warnings) == 3
    assert all(line["message"].endswith("timed out); next try in 60 s") for line in warnings)
    assert all(line["level"] == "WARNING" for line in warnings)
    assert "@example.com" not in output  # addresses are never logged

    # The mail server is back, on the same port; the retries fall due.
    hung_server.stop()
    server = MailServer(port=hung_server.port)
    try:
        DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        run_worker(EMAIL_URL=mail_url, EMAIL_TIMEOUT="1")
        run_worker(EMAIL_URL=mail_url, EMAIL_TIMEOUT="1")  # nothing left to send
    finally:
        server.stop()

    assert server.recipients == ["ada@example.com", "ada@example.com", "grace@example.com"]
    subjects = sorted(
        m.content.decode().split("Subject: ")[1].split("\r\n")[0] for m in server.messages
    )
    assert subjects == [
        f"Corner Shop: Payment received for order {order.number}",
        f"Corner Shop: Your order {order.number} is placed",
        "Reset your Corner Shop password",
    ]
    assert set(Email.objects.values_list("status", "attempts")) == {(EmailStatus.SENT, 2)}


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_email_once():
    recipients = sorted(f"shopper{n}@example.com" for n in range(24))
    for to in recipients:
        email_queue(to=to, subject="Hello", body="Hi", kind="test")
    # A slow server (0.1 s a message), so that both workers are busy at the same time.
    server = MailServer(delay=0.1)
    try:
        mail_url = f"smtp://127.0.0.1:{server.port}"
        workers = [start_worker("--batch", EMAIL_URL=mail_url) for _ in range(2)]
        outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    finally:
        server.stop()

    assert [worker.returncode for worker in workers] == [0, 0], outputs
    assert server.recipients == recipients
    assert set(Email.objects.values_list("status", "attempts")) == {(EmailStatus.SENT, 1)}
    # Both took a share: they really ran side by side.
    worker_ids = {tuple(ids) for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)}
    assert len(worker_ids) == 2


@pytest.mark.django_db(transaction=True)
def test_after_the_last_retry_the_email_is_failed_and_a_resend_delivers_it():
    email = email_queue(
        to="ada@example.com", subject="Hello", body="Hi", kind="test", reference="R1"
    )
    refused = f"smtp://127.0.0.1:{free_port()}"  # nothing listens: connection refused

    output = run_worker(EMAIL_URL=refused, EMAIL_RETRY_DELAYS="0,0")

    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 3)
    assert "ConnectionRefusedError" in email.last_error
    assert not DBTaskResult.objects.filter(status="READY").exists()
    errors = [line for line in logs(output) if line.get("level") == "ERROR"]
    assert [line["message"] for line in errors] == [
        f"email {email.pk} (test R1) failed after 3 attempts (ConnectionRefusedError: [Errno "
        "111] Connection refused); resend it from the back office"
    ]

    assert email_resend(email)
    server = MailServer()
    try:
        run_worker(EMAIL_URL=f"smtp://127.0.0.1:{server.port}")
    finally:
        server.stop()

    assert server.recipients == ["ada@example.com"]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error) == (EmailStatus.SENT, 1, "")


@pytest.mark.django_db(transaction=True)
def test_an_email_whose_worker_died_mid_send_is_never_sent_again_on_its_own(hung_server):
    email = email_queue(to="ada@example.com", subject="Hello", body="Hi", kind="test")
    worker = start_worker(EMAIL_URL=f"smtp://127.0.0.1:{hung_server.port}", EMAIL_TIMEOUT="60")
    try:
        deadline = time.monotonic() + 30
        while Email.objects.get(pk=email.pk).status != EmailStatus.SENDING:
            assert time.monotonic() < deadline, "the worker never started sending"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)

    server = MailServer()
    try:
        run_worker(EMAIL_URL=f"smtp://127.0.0.1:{server.port}")
        assert server.messages == []  # it may have gone out: only staff send it again
        assert Email.objects.get(pk=email.pk).status == EmailStatus.SENDING
        assert not email_resend(email)  # too soon: its worker could still be sending

        Email.objects.filter(pk=email.pk).update(updated=timezone.now() - STUCK_AFTER)
        assert email_resend(email)
        run_worker(EMAIL_URL=f"smtp://127.0.0.1:{server.port}")
    finally:
        server.stop()

    assert server.recipients == ["ada@example.com"]


@pytest.mark.django_db(transaction=True)
def test_an_address_the_mail_server_refuses_is_shown_to_staff_and_never_logged():
    email = email_queue(to="nobody@example.com", subject="Hello", body="Hi", kind="test")
    server = MailServer(refuse={"nobody@example.com"})
    try:
        output = run_worker(EMAIL_URL=f"smtp://127.0.0.1:{server.port}")
    finally:
        server.stop()

    email.refresh_from_db()
    assert email.status == EmailStatus.QUEUED
    assert "SMTPRecipientsRefused" in email.last_error
    assert "nobody@example.com" in email.last_error
    assert "SMTPRecipientsRefused" in output
    assert "nobody@example.com" not in output
