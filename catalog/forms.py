"""What the product list accepts in its query string."""

from django import forms

from catalog.filters import MAX_OPTION_CHOICES, OptionChoice, VariantFilters
from catalog.search import MAX_QUERY_LENGTH

SORTS = {
    "relevance": ("Best match", ["-rank", "-created", "-id"]),
    "newest": ("Newest", ["-created", "-id"]),
    "price_asc": ("Price: low to high", ["price_min", "id"]),
    "price_desc": ("Price: high to low", ["-price_min", "-id"]),
    "name": ("Name", ["name", "id"]),
}


class ProductListQuery(forms.Form):
    """Query-string parameters. Anything unusable falls back to its default, never to a 500."""

    q = forms.CharField(required=False, label="Search")
    category = forms.CharField(required=False)
    sort = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (label, _) in SORTS.items()]
    )
    # What the price columns hold: a value with more decimals or digits is ignored.
    min_price = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)
    max_price = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)

    def values(self):
        """(search text, category slug, sort key); an unknown sort becomes the default.

        The category is returned as given: the view answers 404 for one that does not exist.
        """
        self.is_valid()
        text = " ".join(self.cleaned_data.get("q", "").split())[:MAX_QUERY_LENGTH]
        category = self.cleaned_data.get("category", "")
        sort = self.cleaned_data.get("sort") or "newest"
        if text and not self.data.get("sort"):
            sort = "relevance"
        if sort == "relevance" and not text:
            sort = "newest"
        return text, category, sort

    def filters(self):
        """The variant filters (catalog.filters): unusable values are left out, a price range
        given upside down is turned round, and option values are taken once each (in any letter
        case), at most MAX_OPTION_CHOICES of them, in the order of their text."""
        self.is_valid()
        low, high = self.cleaned_data.get("min_price"), self.cleaned_data.get("max_price")
        if low is not None and high is not None and low > high:
            low, high = high, low
        options = {}
        for raw in self.data.getlist("option") if hasattr(self.data, "getlist") else ():
            choice = OptionChoice.parse(raw)
            if choice is not None:
                options.setdefault(choice.key, choice)
        chosen = sorted(options.values(), key=lambda choice: choice.param)[:MAX_OPTION_CHOICES]
        return VariantFilters(
            min_price=low,
            max_price=high,
            in_stock=self.data.get("in_stock") == "1",
            options=tuple(chosen),
        )


def price_param(amount):
    """A price as the query string writes it: 10, 10.5, never 10.50 or 1E+1."""
    return "" if amount is None else format(abs(amount).normalize(), "f")


def page_number(raw, num_pages):
    """Page 1 for anything not a positive whole number; the last page past the end."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), max(num_pages, 1))
