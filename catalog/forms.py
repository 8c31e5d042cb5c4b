"""What the product list accepts in its query string."""

from django import forms

from catalog.search import MAX_QUERY_LENGTH

SORTS = {
    "relevance": ("Best match", ["-rank", "-created", "-id"]),
    "newest": ("Newest", ["-created", "-id"]),
    "price_asc": ("Price: low to high", ["price", "id"]),
    "price_desc": ("Price: high to low", ["-price", "-id"]),
    "name": ("Name", ["name", "id"]),
}


class ProductListQuery(forms.Form):
    """Query-string parameters. Anything unusable falls back to its default, never to a 500."""

    q = forms.CharField(required=False, label="Search")
    category = forms.CharField(required=False)
    sort = forms.ChoiceField(
        required=False, choices=[(key, label) for key, (label, _) in SORTS.items()]
    )

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


def page_number(raw, num_pages):
    """Page 1 for anything not a positive whole number; the last page past the end."""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), max(num_pages, 1))
