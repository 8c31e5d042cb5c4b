"""Content pages (about, terms, privacy...), written by staff as plain text."""

from django.db import models
from django.urls import reverse


class PageQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Page(models.Model):
    slug = models.SlugField(
        max_length=80, unique=True, help_text="Its address: about gives /pages/about/."
    )
    title = models.CharField(max_length=120)
    # Plain text, escaped when shown: nothing typed in the back office becomes markup.
    body = models.TextField(
        help_text="Plain text. Leave an empty line between paragraphs; HTML is shown as typed."
    )
    is_published = models.BooleanField(
        "published", default=True, help_text="Unpublished pages are not found and not linked."
    )
    footer_order = models.PositiveSmallIntegerField(
        default=0, help_text="Position of the link in the footer: lower numbers come first."
    )
    updated = models.DateTimeField(auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["footer_order", "title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("pages:detail", args=[self.slug])
