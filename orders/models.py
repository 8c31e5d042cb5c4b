"""Orders: what was bought, at what price, sent where, and every change of status."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from accounts.models import SHIPPING_FIELDS, address_lines
from orders.status import REVENUE_STATUSES, OrderStatus, state_of

# Orders whose money the shop has: what revenue and "total spent" count (orders/status.py).
PAID_STATUSES = REVENUE_STATUSES


class OrderQuerySet(models.QuerySet):
    def for_customer(self, user):
        return self.filter(user=user)

    def paid(self):
        return self.filter(status__in=PAID_STATUSES)


class Order(models.Model):
    SHIPPING_FIELDS = SHIPPING_FIELDS

    number = models.CharField(max_length=16, unique=True, editable=False)
    # None: a guest's order, reached through its signed link (orders.access).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    email = models.EmailField()
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    currency = models.CharField(max_length=3)
    # The figures of pricing.breakdown, as the shopper agreed to them (README, "Pricing").
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping = models.DecimalField(max_digits=12, decimal_places=2)
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2)
    prices_include_tax = models.BooleanField(default=False)
    # Of `tax`, the part charged on shipping.
    shipping_tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_name = models.CharField(max_length=50, blank=True)
    tax_rate = models.DecimalField(
        "tax rate (%)", max_digits=6, decimal_places=3, null=True, blank=True
    )
    shipping_tax_rate = models.DecimalField(
        "shipping tax rate (%)", max_digits=6, decimal_places=3, default=Decimal("0")
    )
    shipping_method = models.ForeignKey(
        "pricing.ShippingMethod",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    shipping_method_name = models.CharField("shipping method", max_length=100, blank=True)
    voucher_code = models.CharField("discount code", max_length=40, blank=True)
    note = models.TextField(
        "note from the customer", max_length=1000, blank=True, help_text="Shown to staff only."
    )

    full_name = models.CharField(max_length=150)
    address_line1 = models.CharField("address line 1", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    region = models.CharField("state / region", max_length=100, blank=True)
    country = CountryField()
    phone = models.CharField(max_length=32, blank=True)

    # The one-time token of the checkout form that made this order: a repeated submission
    # of the same form finds this order instead of making a second one.
    checkout_token = models.UUIDField(unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Stamped by order_transition as the order moves (orders/status.py: State.stamp).
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Sequential per year with no gaps, given when the order is paid (orders/invoices.py).
    invoice_number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    # Given when the order is marked shipped. One parcel per order: partial shipments are not
    # supported.
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(
        "tracking link",
        max_length=500,
        blank=True,
        # Shown as a link to the customer: the web's schemes only.
        validators=[URLValidator(schemes=["http", "https"])],
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        prices_include_tax=False,
                        total=F("subtotal") - F("discount") + F("shipping") + F("tax"),
                    )
                    | Q(
                        prices_include_tax=True,
                        total=F("subtotal") - F("discount") + F("shipping"),
                    )
                ),
                name="orders_order_total_from_its_parts",
            ),
            models.CheckConstraint(
                condition=Q(
                    subtotal__gt=0,
                    discount__gte=0,
                    discount__lte=F("subtotal"),
                    shipping__gte=0,
                    tax__gte=0,
                    shipping_tax__gte=0,
                    shipping_tax__lte=F("tax"),
                    total__gte=0,
                ),
                name="orders_order_amounts_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="orders_order_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created"], name="orders_customer_history_idx"),
            models.Index(fields=["status", "created"], name="orders_status_created_idx"),
        ]

    def __str__(self):
        return f"Order {self.number}"

    def get_absolute_url(self):
        return reverse("orders:detail", args=[self.number])

    @property
    def shipping_address_lines(self):
        return address_lines(self)

    def lines_total(self):
        """The sum of the order's lines, recomputed from the items."""
        return sum((item.line_total for item in self.items.all()), Decimal("0.00"))

    @property
    def is_guest(self):
        return self.user_id is None

    @property
    def goods_after_discount(self):
        return self.subtotal - self.discount

    @property
    def state(self):
        """What the order's status allows and how it is shown (orders/status.py)."""
        return state_of(self.status)

    @property
    def can_be_cancelled_by_customer(self):
        return self.state.awaits_payment

    @property
    def can_be_put_back_in_cart(self):
        return self.state.reorderable

    @property
    def refunded(self):
        """The money given back so far: the order's refunds that went through (payments keeps
        them, as `refunds`)."""
        return self.refunds.filter(state="succeeded").aggregate(
            total=models.Sum("amount", default=Decimal("0"))
        )["total"]

    @property
    def return_deadline(self):
        """The last moment a return may be asked for; None if the order was never delivered."""
        if self.delivered_at is None:
            return None
        return self.delivered_at + timedelta(days=settings.RETURN_WINDOW_DAYS)

    @property
    def can_be_returned(self):
        """Delivered, within RETURN_WINDOW_DAYS of it, with items not yet in a return
        (orders/returns.py)."""
        deadline = self.return_deadline
        if self.status != OrderStatus.DELIVERED or deadline is None or timezone.now() > deadline:
            return False
        bought = self.items.aggregate(n=models.Sum("quantity", default=0))["n"]
        return sum(self.quantities_asked_back().values()) < bought

    def quantities_asked_back(self):
        """{order item id: quantity} in this order's returns that were not refused."""
        return dict(
            ReturnLine.objects.filter(return_request__order=self)
            .exclude(return_request__status=ReturnStatus.REFUSED)
            .values("item")
            .annotate(quantity=models.Sum("quantity"))
            .values_list("item", "quantity")
        )

    @property
    def return_heading(self):
        """The payment return page's heading for this order's status ("" where it thanks)."""
        return self.state.return_heading.format(number=self.number)

    @property
    def return_note(self):
        return self.state.return_note.format(number=self.number)


class InvoiceSequence(models.Model):
    """The last invoice number given in a year: one row per year, counted up under its lock."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    # PROTECT: a variant (and so a product) that was sold cannot be deleted, only deactivated.
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.PROTECT, related_name="+"
    )
    # A snapshot, so later edits of the catalogue never change a past order.
    product_name = models.CharField(max_length=200)
    variant_label = models.CharField(max_length=255, blank=True)
    product_sku = models.CharField("SKU", max_length=64)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    # The line's share of the order's discount, and the tax on what is left of it.
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_rate = models.DecimalField(
        "tax rate (%)", max_digits=6, decimal_places=3, default=Decimal("0")
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0, unit_price__gt=0), name="orders_item_positive"
            ),
            models.CheckConstraint(
                condition=Q(discount__gte=0, discount__lte=F("line_total"), tax__gte=0),
                name="orders_item_discount_and_tax_valid",
            ),
            models.CheckConstraint(
                condition=Q(line_total=F("unit_price") * F("quantity")),
                name="orders_item_line_total_is_price_times_quantity",
            ),
            models.UniqueConstraint(fields=["order", "variant"], name="orders_item_one_line"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.name}"

    @property
    def net(self):
        """The line after its discount share: what was charged for it (tax aside)."""
        return self.line_total - self.discount

    @property
    def name(self):
        """ "Shirt (Size: M / Colour: Blue)": the product and its variant as ordered."""
        if self.variant_label:
            return f"{self.product_name} ({self.variant_label})"
        return self.product_name


class EventKind(models.TextChoices):
    STATUS = "status", "Status"
    RETURN = "return", "Return"
    REFUND = "refund", "Refund"
    NOTE = "note", "Staff note"


class OrderEvent(models.Model):
    """One entry of an order's timeline: a status change, a return's or a refund's step, or a
    staff note. Staff notes are internal: the customer never sees them."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=EventKind.choices, default=EventKind.STATUS)
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=50)
    note = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="status") | ~Q(to_status=""),
                name="orders_orderevent_status_has_status",
            )
        ]

    def __str__(self):
        if self.kind == EventKind.STATUS:
            return f"{self.from_status or 'new'} → {self.to_status}"
        return f"{self.get_kind_display()}: {self.note}"

    @property
    def internal(self):
        return self.kind == EventKind.NOTE

    @property
    def summary(self):
        """The entry as the timeline says it, and its detail (a status change's note)."""
        if self.kind == EventKind.STATUS:
            return self.get_to_status_display()
        return self.note

    @property
    def detail(self):
        return self.note if self.kind == EventKind.STATUS else ""


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved: send the items back"
    REFUSED = "refused", "Refused"
    RECEIVED = "received", "Items received"


class Return(models.Model):
    """A shopper's request to send back some lines of a delivered order, and what staff did
    with it (orders/returns.py)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(
        max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED
    )
    reason = models.TextField(max_length=1000)
    # What staff told the customer when approving or refusing.
    answer = models.CharField(max_length=500, blank=True)
    # Whether the items went back on sale when they arrived (None: not received yet).
    restocked = models.BooleanField(null=True)
    created = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReturnStatus.values), name="orders_return_status_valid"
            )
        ]

    def __str__(self):
        return f"Return {self.pk} of order {self.order.number}"

    @property
    def open(self):
        return self.status in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)


class ReturnLine(models.Model):
    return_request = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "item"], name="orders_returnline_item_once"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_returnline_some"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.item.name}"
