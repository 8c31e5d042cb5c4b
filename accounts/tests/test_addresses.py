"""The address book: its pages, its services (checkout's included) and its back office."""

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse
from django_countries.fields import Country

from accounts.models import Address
from accounts.services import (
    ADDRESS_BOOK_LIMIT,
    AddressBookFull,
    address_add,
    address_delete,
    address_save_from_checkout,
    address_set_default,
)
from accounts.tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

HOME = {
    "label": "Home",
    "full_name": "Ada Lovelace",
    "address_line1": "12 St James's Square",
    "address_line2": "",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "region": "",
    "country": "GB",
    "phone": "+44 20 7946 0000",
}
SHIPPING = {field: value for field, value in HOME.items() if field != "label"}

LIST = reverse("accounts:address_list")
ADD = reverse("accounts:address_add")


def add(user, **overrides):
    return address_add(user=user, data={**HOME, **overrides})


def fill_book(user, count):
    return [add(user, label=f"Address {n}", city=f"Town {n}") for n in range(count)]


def defaults(user):
    return list(Address.objects.filter(user=user, is_default=True))


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def url(name, address):
    return reverse(f"accounts:{name}", args=[address.pk])


# Who may see what


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "address_list"),
        ("get", "address_add"),
        ("get", "address_edit"),
        ("get", "address_delete"),
        ("post", "address_delete"),
        ("post", "address_make_default"),
    ],
)
def test_address_pages_send_anonymous_visitors_to_log_in(client, method, name):
    address = add(UserFactory())
    path = reverse(
        f"accounts:{name}", args=[] if name in ("address_list", "address_add") else [address.pk]
    )

    response = getattr(client, method)(path)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert Address.objects.filter(pk=address.pk).exists()


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("get", "address_edit"),
        ("post", "address_edit"),
        ("get", "address_delete"),
        ("post", "address_delete"),
        ("post", "address_make_default"),
    ],
)
def test_another_shoppers_address_is_a_404_for_every_action(client, shopper, method, name):
    mine = add(shopper)
    theirs = add(UserFactory(), label="Theirs")
    add(theirs.user, label="Their other")  # not their default: make default would change it
    other = Address.objects.get(label="Their other")

    response = getattr(client, method)(url(name, other), {**HOME, "label": "Hijacked"})

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.label == "Their other"
    assert not other.is_default
    assert defaults(theirs.user) == [theirs]
    assert defaults(shopper) == [mine]


def test_make_default_answers_a_get_with_405_and_changes_nothing(client, shopper):
    first, second = add(shopper), add(shopper, label="Office")

    response = client.get(url("address_make_default", second))

    assert response.status_code == 405
    assert defaults(shopper) == [first]


# The list


def test_the_list_shows_the_default_first_marked_and_only_the_shoppers_own(client, shopper):
    add(shopper, label="Home")
    add(shopper, label="Office")
    holiday = add(shopper, label="Holiday cottage")
    address_set_default(address=Address.objects.get(label="Office"))
    add(UserFactory(), label="Somebody else's")

    response = client.get(LIST)

    assert response.status_code == 200
    assert [a.label for a in response.context["addresses"]] == ["Office", "Holiday cottage", "Home"]
    body = response.content.decode()
    assert body.count("Default address") == 1
    assert body.index("Office") < body.index("Default address") < body.index("Holiday cottage")
    assert "Somebody else" not in body
    assert url("address_make_default", holiday) in body
    assert "3 of 20 addresses" in body


def test_an_empty_address_book_says_so_and_offers_to_add_one(client, shopper):
    response = client.get(LIST)

    body = response.content.decode()
    assert "You have no saved addresses yet" in body
    assert f'href="{ADD}"' in body


def test_the_account_page_links_to_the_address_book_with_its_count(client, shopper):
    fill_book(shopper, 2)

    body = client.get(reverse("accounts:account")).content.decode()

    assert f'href="{LIST}">Address book</a>' in body
    assert "(2 saved)" in body


# Adding and editing


def test_the_add_form_has_the_checkout_autofill_hints(client, shopper):
    body = client.get(ADD).content.decode()

    assert 'autocomplete="address-line1"' in body
    assert 'autocomplete="postal-code"' in body
    assert 'autocomplete="country"' in body
    assert 'type="tel"' in body
    assert 'autocomplete="tel"' in body
    assert '<option value="GB">United Kingdom</option>' in body
    assert 'maxlength="50"' in body  # the label


def test_the_first_address_saved_becomes_the_default(client, shopper):
    response = client.post(ADD, HOME)

    assert response.status_code == 302
    assert response["Location"] == LIST
    address = Address.objects.get(user=shopper)
    assert address.is_default
    assert address.label == "Home"
    assert address.country.code == "GB"
    assert texts(response) == ["The address is saved in your address book."]


def test_a_second_address_leaves_the_default_unless_ticked(client, shopper):
    first = add(shopper)

    client.post(ADD, {**HOME, "label": "Office"})
    assert defaults(shopper) == [first]

    client.post(ADD, {**HOME, "label": "Cottage", "is_default": "on"})
    assert [a.label for a in defaults(shopper)] == ["Cottage"]
    assert Address.objects.filter(user=shopper).count() == 3


def test_editing_changes_the_address_and_can_make_it_the_default(client, shopper):
    first = add(shopper)
    office = add(shopper, label="Office")

    response = client.post(
        url("address_edit", office),
        {**HOME, "label": "New office", "city": "Leeds", "is_default": "on"},
    )

    assert response.status_code == 302
    office.refresh_from_db()
    assert (office.label, office.city, office.is_default) == ("New office", "Leeds", True)
    first.refresh_from_db()
    assert not first.is_default


def test_the_default_stays_the_default_when_edited(client, shopper):
    home = add(shopper)
    add(shopper, label="Office")

    page = client.get(url("address_edit", home))
    response = client.post(url("address_edit", home), {**HOME, "city": "Bath"})

    assert "is_default" not in page.context["form"].fields
    assert response.status_code == 302
    home.refresh_from_db()
    assert (home.city, home.is_default) == ("Bath", True)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "<script>"}, "phone"),
        ({"city": ""}, "city"),
        ({"full_name": "   "}, "full_name"),
        ({"postal_code": ""}, "postal_code"),
        ({"country": ""}, "country"),
        ({"country": "XX"}, "country"),
        ({"address_line1": "x" * 201}, "address_line1"),
    ],
)
def test_invalid_input_shows_the_form_again_with_a_400_and_saves_nothing(
    client, shopper, overrides, field
):
    response = client.post(ADD, {**HOME, **overrides})

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'class="field__error"' in response.content.decode()
    assert not Address.objects.exists()


def test_invalid_input_when_editing_leaves_the_address_as_it_was(client, shopper):
    home = add(shopper)

    response = client.post(url("address_edit", home), {**HOME, "phone": "ring twice", "city": ""})

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"phone", "city"}
    home.refresh_from_db()
    assert (home.phone, home.city) == (HOME["phone"], HOME["city"])


def test_a_10_kb_label_is_refused_with_a_message(client, shopper):
    response = client.post(ADD, {**HOME, "label": "L" * 10_240})

    assert response.status_code == 400
    assert response.context["form"].errors["label"] == [
        "Ensure this value has at most 50 characters (it has 10240)."
    ]
    assert not Address.objects.exists()


# Deleting and choosing the default


def test_delete_asks_first_and_deletes_only_on_post(client, shopper):
    home = add(shopper)

    page = client.get(url("address_delete", home))
    assert page.status_code == 200
    assert "Delete this address?" in page.content.decode()
    assert Address.objects.filter(pk=home.pk).exists()

    response = client.post(url("address_delete", home))
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not Address.objects.filter(pk=home.pk).exists()
    assert texts(response) == ["“Home” is deleted from your address book."]


def test_deleting_the_default_makes_the_newest_remaining_one_the_default(client, shopper):
    home, _office, cottage = fill_book(shopper, 3)
    assert defaults(shopper) == [home]

    client.post(url("address_delete", home))

    assert defaults(shopper) == [cottage]


def test_deleting_another_address_keeps_the_default(client, shopper):
    home, office = fill_book(shopper, 2)

    client.post(url("address_delete", office))

    assert defaults(shopper) == [home]


def test_deleting_the_last_address_leaves_an_empty_book():
    user = UserFactory()
    address_delete(address=add(user))
    assert not Address.objects.filter(user=user).exists()


def test_deleting_an_address_already_gone_does_nothing():
    user = UserFactory()
    home, office = fill_book(user, 2)
    Address.objects.filter(pk=home.pk).delete()  # a second tab deleted it meanwhile

    address_delete(address=home)

    assert list(Address.objects.filter(user=user)) == [office]


def test_make_default_moves_the_default_to_the_chosen_address(client, shopper):
    home, office = fill_book(shopper, 2)

    response = client.post(url("address_make_default", office))

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert defaults(shopper) == [office]
    assert texts(response) == ["“Address 1” is now your default address."]
    home.refresh_from_db()
    assert not home.is_default


def test_set_default_refuses_an_address_deleted_meanwhile_and_keeps_the_old_default():
    user = UserFactory()
    home, office = fill_book(user, 2)
    Address.objects.filter(pk=office.pk).delete()

    with pytest.raises(Address.DoesNotExist):
        address_set_default(address=office)

    assert defaults(user) == [home]


# The limit


def test_the_book_holds_at_most_20_addresses(client, shopper):
    fill_book(shopper, ADDRESS_BOOK_LIMIT)

    posted = client.post(ADD, {**HOME, "label": "One too many"})
    opened = client.get(ADD)
    listing = client.get(LIST)

    assert posted.status_code == 302
    assert posted["Location"] == LIST
    assert texts(posted) == [
        "Your address book is full: it holds up to 20 addresses. "
        "Delete one you no longer use to add another."
    ]
    assert opened.status_code == 302
    assert "full" in texts(opened)[0]
    assert f'href="{ADD}"' not in listing.content.decode()
    assert "Your address book is full" in listing.content.decode()
    assert Address.objects.filter(user=shopper).count() == ADDRESS_BOOK_LIMIT
    assert not Address.objects.filter(label="One too many").exists()
    with pytest.raises(AddressBookFull):
        add(shopper)


def test_the_limit_is_per_shopper():
    fill_book(UserFactory(), ADDRESS_BOOK_LIMIT)
    assert add(UserFactory()).is_default


# Saving the address of a checkout


@pytest.mark.parametrize("country", ["GB", Country("GB")])
def test_checkout_does_not_save_an_address_twice(country):
    user = UserFactory()
    home = add(user)
    add(user, label="Office", city="Leeds")

    saved = address_save_from_checkout(user=user, shipping={**SHIPPING, "country": country})

    assert saved == home
    assert Address.objects.filter(user=user).count() == 2


def test_checkout_saving_a_known_address_can_make_it_the_default():
    user = UserFactory()
    add(user)
    office = add(user, label="Office", city="Leeds")

    saved = address_save_from_checkout(
        user=user, shipping={**SHIPPING, "city": "Leeds"}, make_default=True
    )

    assert saved == office
    assert defaults(user) == [office]


def test_checkout_saves_a_new_address_the_first_one_as_default():
    user = UserFactory()

    first = address_save_from_checkout(user=user, shipping={**SHIPPING, "email": "ignored"})
    other = address_save_from_checkout(user=user, shipping={**SHIPPING, "phone": ""})

    assert first.is_default
    assert first.label == ""
    assert other != first
    assert not other.is_default
    assert defaults(user) == [first]


def test_checkout_saves_nothing_when_the_book_is_full_but_still_finds_a_known_address():
    user = UserFactory()
    fill_book(user, ADDRESS_BOOK_LIMIT)
    known = Address.objects.get(user=user, city="Town 3")

    refused = address_save_from_checkout(user=user, shipping={**SHIPPING, "city": "Bath"})
    found = address_save_from_checkout(user=user, shipping={**SHIPPING, "city": "Town 3"})

    assert refused is None
    assert found == known
    assert Address.objects.filter(user=user).count() == ADDRESS_BOOK_LIMIT


def test_address_add_refuses_fields_an_address_does_not_have():
    with pytest.raises(TypeError, match="is_default"):
        address_add(user=UserFactory(), data={**HOME, "is_default": True})
    assert not Address.objects.exists()


# The back office


@pytest.fixture
def superuser_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_the_customer_page_in_the_back_office_shows_the_address_book(superuser_client):
    customer = UserFactory()
    add(customer, label="Lighthouse")

    change = superuser_client.get(reverse("admin:accounts_user_change", args=[customer.pk]))
    new = superuser_client.get(reverse("admin:accounts_user_add"))

    assert change.status_code == 200
    assert "Lighthouse" in change.content.decode()
    assert "addresses-TOTAL_FORMS" in change.content.decode()
    assert "addresses-TOTAL_FORMS" not in new.content.decode()


def test_addresses_can_be_searched_in_the_back_office(superuser_client):
    add(UserFactory(email="keeper@example.com"), label="Lighthouse", city="Penzance")
    add(UserFactory(), label="Elsewhere", city="Leeds")

    listing = superuser_client.get(reverse("admin:accounts_address_changelist"), {"q": "penz"})

    assert listing.status_code == 200
    assert [str(a) for a in listing.context["cl"].result_list] == ["Lighthouse"]


def test_the_back_office_action_and_delete_keep_one_default(superuser_client):
    customer = UserFactory()
    home, office, cottage = fill_book(customer, 3)

    superuser_client.post(
        reverse("admin:accounts_address_changelist"),
        {"action": "make_default", "_selected_action": [office.pk]},
    )
    assert defaults(customer) == [office]

    superuser_client.post(
        reverse("admin:accounts_address_delete", args=[office.pk]), {"post": "yes"}
    )
    assert defaults(customer) == [cottage]
    assert set(Address.objects.filter(user=customer)) == {home, cottage}


def test_addresses_added_and_deleted_on_the_customer_page_keep_one_default(superuser_client):
    customer = UserFactory(email="keeper@example.com", full_name="Grace Darling")
    home, office = fill_book(customer, 2)
    change = reverse("admin:accounts_user_change", args=[customer.pk])
    data = {
        "email": customer.email,
        "full_name": customer.full_name,
        "is_active": "on",
        "addresses-TOTAL_FORMS": "3",
        "addresses-INITIAL_FORMS": "2",
        "addresses-MIN_NUM_FORMS": "0",
        "addresses-MAX_NUM_FORMS": "20",
    }
    for n, address in enumerate([home, office]):
        data.update(
            {f"addresses-{n}-{field}": str(value) for field, value in address.as_shipping().items()}
        )
        data.update({f"addresses-{n}-id": address.pk, f"addresses-{n}-user": customer.pk})
        data[f"addresses-{n}-label"] = address.label
    data["addresses-0-DELETE"] = "on"
    data.update({f"addresses-2-{field}": value for field, value in HOME.items()})
    data.update({"addresses-2-label": "Lighthouse", "addresses-2-user": customer.pk})

    response = superuser_client.post(change, data)

    assert response.status_code == 302, response.context["errors"]
    lighthouse = Address.objects.get(label="Lighthouse")
    assert set(Address.objects.filter(user=customer)) == {office, lighthouse}
    # Deletions go first: the newest address left then (the office) took over the default.
    assert defaults(customer) == [office]


# At the same moment


def at_once(jobs):
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # an IntegrityError or deadlock would land here
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=[job]) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_addresses_made_default_at_the_same_moment_leave_exactly_one_default():
    user = UserFactory()
    addresses = fill_book(user, 6)

    errors = at_once(
        [
            lambda pk=a.pk: address_set_default(address=Address.objects.get(pk=pk))
            for a in addresses[1:]
        ]
    )

    assert errors == []
    assert len(defaults(user)) == 1


@pytest.mark.django_db(transaction=True)
def test_addresses_added_at_the_same_moment_stop_at_the_limit():
    user = UserFactory()
    fill_book(user, ADDRESS_BOOK_LIMIT - 2)

    errors = at_once([lambda n=n: add(user, label=f"Late {n}") for n in range(5)])

    assert [type(error) for error in errors] == [AddressBookFull] * 3
    assert Address.objects.filter(user=user).count() == ADDRESS_BOOK_LIMIT
