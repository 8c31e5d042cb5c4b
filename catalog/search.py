"""Product search: ranked full-text search on PostgreSQL, a contains match elsewhere."""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, IntegerField, Q, Value, When

SEARCH_CONFIG = "english"
MAX_QUERY_LENGTH = 100


def product_search_vector():
    """Name words weigh more than description words, so a name match ranks first.

    The GIN index in catalog's migrations is built on this exact expression; change both
    together or PostgreSQL stops using the index.
    """
    return SearchVector("name", weight="A", config=SEARCH_CONFIG) + SearchVector(
        "description", weight="B", config=SEARCH_CONFIG
    )


def search_products(queryset, text):
    """Filter `queryset` to products matching `text`, annotated with a `rank` (higher first)."""
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        vector = product_search_vector()
        return (
            queryset.alias(search=vector)
            .filter(search=query)
            .annotate(rank=SearchRank(vector, query))
        )
    return queryset.filter(Q(name__icontains=text) | Q(description__icontains=text)).annotate(
        rank=Case(
            When(name__icontains=text, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
