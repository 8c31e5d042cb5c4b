"""Products in and out as CSV: one row per variant, its product's fields repeated on each row.

Columns (README, "Catalogue: import and export"):

    product_slug, product_name, category, description, product_active, pictures,
    sku, price, stock, stock_at_export, variant_active,
    option1_name, option1_value, option2_name, option2_value, ...

The export writes every column; an import needs product_slug, product_name, category, sku, price
and stock, and leaves whatever an absent column would say alone. A product is found by its slug,
a variant by its SKU, a category by its slug (an unknown one is an error: categories are made in
the back office). An import creates and changes; it never deletes nor deactivates what the file
leaves out.

An import is all or nothing. Every row is checked first and every problem is reported with its
line number; only a file without problems is written, in one transaction with bulk statements,
and the catalogue version moves on once. The export of a catalogue imports back as a no-op.

Pictures: `pictures` lists the product's pictures (ProductImage) by their file names in the
media storage, in order, separated by ";". An import checks that each new name is a file there
and makes the product's pictures exactly that list (catalog.images.product_pictures_set); it
uploads nothing. An empty cell removes the product's pictures; no column leaves them alone.

Stock: an import sets a variant's stock to the file's `stock`, except on rows where `stock`
still equals `stock_at_export` (the export writes both): there the stock is left as it is, so
sales made since the file was exported are not undone by an edit of, say, prices.
"""

import csv
import io
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Max, Min, OuterRef, Subquery
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from catalog.cache import catalog_changed
from catalog.images import picture_storage, product_pictures_set
from catalog.models import (
    Category,
    OptionType,
    OptionValue,
    Product,
    ProductImage,
    ProductVariant,
    VariantOption,
)
from catalog.services import MAX_STOCK, combination_key, variant_label

PRODUCT_COLUMNS = (
    "product_slug",
    "product_name",
    "category",
    "description",
    "product_active",
    "pictures",
)
VARIANT_COLUMNS = ("sku", "price", "stock", "stock_at_export", "variant_active")
COLUMNS = PRODUCT_COLUMNS + VARIANT_COLUMNS
REQUIRED_COLUMNS = ("product_slug", "product_name", "category", "sku", "price", "stock")
OPTION_COLUMN = re.compile(r"option([1-9][0-9]?)_(name|value)")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}
PICTURE_SEPARATOR = ";"
PICTURE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif")
# Uploaded import files wait in the media storage under this folder between preview and confirm
# (catalog.admin_import); a picture name may never point there.
PENDING_FOLDER = "imports/"

# The largest file the back office takes. Views in UPLOAD_VIEWS may be sent
# DATA_UPLOAD_MAX_MEMORY_SIZE + MAX_IMAGE_UPLOAD_BYTES (7.5 MB) before the body-limit middleware
# answers 413; at 5 MB the form says what is wrong itself for anything up to that.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# The largest file `manage.py import_products` reads (every row is held in memory).
MAX_COMMAND_BYTES = 25 * 1024 * 1024

BATCH = 2000  # rows per INSERT or UPDATE
LOOKUP_CHUNK = 5000  # values per IN (...) lookup

Progress = Callable[[str, int, int], None]


def _no_progress(step, done, total):
    pass


@dataclass(frozen=True)
class Problem:
    """Something in the file that stops the import: on `line` (1 is the header) or the file."""

    line: int | None
    message: str

    def __str__(self):
        return f"Line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Change:
    """What the import does (or would do) to one product or variant."""

    line: int
    kind: str  # "product" or "variant"
    key: str  # slug or SKU
    created: bool
    fields: tuple[tuple[str, str, str], ...] = ()  # (column, before, after) of a change

    def __str__(self):
        what = f"{self.kind} {self.key}"
        if self.created:
            return f"Line {self.line}: new {what}"
        changes = "; ".join(f"{name} {before} → {after}" for name, before, after in self.fields)
        return f"Line {self.line}: {what}: {changes}"


@dataclass
class ImportResult:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Worth a look but not wrong, e.g. stock that moved since the export and is set anyway.
    warnings: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    applied: bool = False
    seconds: float = 0.0

    @property
    def ok(self):
        return not self.problems

    @property
    def changed_anything(self):
        return bool(self.changes)

    def summary(self):
        c = self.counts
        return (
            f"products: {c['products_created']:,} new, {c['products_changed']:,} changed, "
            f"{c['products_unchanged']:,} unchanged; variants: {c['variants_created']:,} new, "
            f"{c['variants_changed']:,} changed, {c['variants_unchanged']:,} unchanged"
        )


@dataclass
class Row:
    line: int
    slug: str
    name: str
    category: str
    description: str | None  # None: the column is absent, leave it alone
    active: bool | None
    pictures: tuple[str, ...] | None
    sku: str
    price: Decimal
    stock: int
    stock_at_export: int | None
    variant_active: bool | None
    options: tuple[tuple[str, str], ...] | None  # (name, value) pairs; None: no option columns

    @property
    def option_names(self):
        return None if self.options is None else tuple(name for name, _ in self.options)


# --- Reading ---------------------------------------------------------------------------------


def size_problem(size, limit, *, read_up_to_limit=False):
    """The problem with a file of `size` bytes, if over `limit`. read_up_to_limit: only the
    limit and one byte more were read, so the real size is not known."""
    if size <= limit:
        return None
    shown = f"over {_size(limit)}" if read_up_to_limit else _size(size)
    return Problem(
        None,
        f"The file is {shown}; an import takes at most {_size(limit)}. Split it into several "
        "files, keeping all the rows of a product in one file.",
    )


def _size(size):
    return filesizeformat(size).replace("\xa0", " ")


def _decode(data):
    if data.startswith(b"PK\x03\x04"):
        return None, Problem(
            None,
            "This is not a CSV file but a zip file, such as an Excel workbook (.xlsx). "
            'Save it as "CSV UTF-8" and import that.',
        )
    if b"\x00" in data:
        return None, Problem(
            None,
            "This is not a CSV file: it holds binary data (a picture, a spreadsheet, or text "
            'saved as UTF-16). Save it as "CSV UTF-8" and import that.',
        )
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, Problem(
            data.count(b"\n", 0, exc.start) + 1,
            'this is not UTF-8 text. Save the file as "CSV UTF-8" and import that.',
        )


def _header(cells):
    names = [cell.strip().lower() for cell in cells]
    problems = []
    if len(names) == 1 and (";" in cells[0] or "\t" in cells[0]):
        return (
            None,
            None,
            [Problem(1, "the columns are separated by semicolons or tabs: use commas.")],
        )
    known = [name for name in names if name in COLUMNS or OPTION_COLUMN.fullmatch(name)]
    if not known:
        return (
            None,
            None,
            [
                Problem(
                    1,
                    "this is not a product CSV: the first line must name the columns, e.g. "
                    + ",".join(COLUMNS)
                    + ",option1_name,option1_value.",
                )
            ],
        )
    seen = set()
    for position, name in enumerate(names, 1):
        if not name:
            problems.append(Problem(1, f"column {position} has no name."))
        elif name in seen:
            problems.append(Problem(1, f"the column {name} is there twice."))
        elif name not in COLUMNS and not OPTION_COLUMN.fullmatch(name):
            problems.append(
                Problem(
                    1,
                    f"unknown column {name!r}. The columns are {', '.join(COLUMNS)} and "
                    "option pairs option1_name, option1_value, option2_name, ...",
                )
            )
        seen.add(name)
    missing = [name for name in REQUIRED_COLUMNS if name not in seen]
    if missing:
        problems.append(Problem(1, f"missing column(s): {', '.join(missing)}."))
    numbers = sorted({int(m[1]) for m in map(OPTION_COLUMN.fullmatch, names) if m})
    for number in numbers:
        for part in ("name", "value"):
            if f"option{number}_{part}" not in seen:
                other = "value" if part == "name" else "name"
                problems.append(
                    Problem(
                        1,
                        f"option{number}_{other} needs an option{number}_{part} column beside it.",
                    )
                )
    return names, numbers, problems


def _field_clean(model, name, value, column, errors):
    try:
        return model._meta.get_field(name).clean(value, None)
    except ValidationError as exc:
        errors.append(f"{column}: {exc.messages[0]}")  # the first says enough
        return None


def _yes_no(raw, column, errors):
    value = raw.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    errors.append(f"{column}: write yes or no, not {raw!r}.")
    return None


def _whole_number(raw, column, errors):
    text = raw.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        errors.append(
            f"{column}: {text!r} is not a whole number." if text else f"{column}: it is empty."
        )
        return None
    number = int(text)
    if number < 0:
        errors.append(f"{column}: {number} is below zero; stock cannot be negative.")
        return None
    if number > MAX_STOCK:
        errors.append(f"{column}: {number:,} is more than a stock can be ({MAX_STOCK:,}).")
        return None
    return number


def _price(raw, errors):
    text = raw.strip()
    if not text:
        errors.append("price: it is empty.")
        return None
    if "," in text:
        errors.append(
            f"price: {text!r}: write prices with a point and no separators, like 1250.50."
        )
        return None
    try:
        number = Decimal(text)
        # 12.500 is 12.50: only decimals that are not zero count against the currency.
        if number.is_finite() and number == number.quantize(Decimal("0.01")):
            text = str(number.quantize(Decimal("0.01")))
    except InvalidOperation:
        pass
    price = _field_clean(ProductVariant, "price", text, "price", errors)
    return price


def _row(line, cells, option_numbers):
    """The row, or None and what is wrong with it."""
    errors = []
    slug = _field_clean(Product, "slug", cells["product_slug"].strip(), "product_slug", errors)
    name = _field_clean(Product, "name", cells["product_name"].strip(), "product_name", errors)
    category = cells["category"].strip()
    if not category:
        errors.append("category: it is empty; give a category's slug.")
    description = cells.get("description")
    active = (
        _yes_no(cells["product_active"], "product_active", errors)
        if ("product_active" in cells)
        else None
    )
    pictures = None
    if "pictures" in cells:
        pictures = tuple(
            name.strip() for name in cells["pictures"].split(PICTURE_SEPARATOR) if name.strip()
        )
        for picture in pictures:
            if len(picture) > ProductImage._meta.get_field("image").max_length:
                errors.append(f"pictures: {picture[:40]!r}... is too long a file name.")
        if len(set(pictures)) != len(pictures):
            errors.append("pictures: a file name is given twice.")
    sku = _field_clean(ProductVariant, "sku", cells["sku"].strip(), "sku", errors)
    price = _price(cells["price"], errors)
    stock = _whole_number(cells["stock"], "stock", errors)
    stock_at_export = None
    if cells.get("stock_at_export", "").strip():
        stock_at_export = _whole_number(cells["stock_at_export"], "stock_at_export", errors)
    variant_active = (
        _yes_no(cells["variant_active"], "variant_active", errors)
        if ("variant_active" in cells)
        else None
    )
    options = None
    if option_numbers:
        options = []
        for number in option_numbers:
            option = cells[f"option{number}_name"].strip()
            value = cells[f"option{number}_value"].strip()
            if not option and not value:
                continue
            if not option or not value:
                empty = f"option{number}_{'name' if not option else 'value'}"
                errors.append(f"{empty}: it is empty, but option{number} has a "
                              f"{'value' if not option else 'name'}.")  # fmt: skip
                continue
            _field_clean(OptionType, "name", option, f"option{number}_name", errors)
            _field_clean(OptionValue, "value", value, f"option{number}_value", errors)
            if any(option == seen for seen, _ in options):
                errors.append(f"option{number}_name: the option {option!r} is given twice.")
            options.append((option, value))
        options = tuple(options)
    if errors:
        return None, errors
    return Row(
        line=line,
        slug=slug,
        name=name,
        category=category,
        description=description,
        active=active,
        pictures=pictures,
        sku=sku,
        price=price,
        stock=stock,
        stock_at_export=stock_at_export,
        variant_active=variant_active,
        options=options,
    ), []


def read_rows(data: bytes, progress: Progress = _no_progress):
    """The file's rows, each checked on its own; the problems found, with line numbers; and how
    many rows (records under the header, blank ones left out) the file has."""
    text, problem = _decode(data)
    if problem:
        return [], [problem], 0
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [Problem(1, f"this line cannot be read as CSV ({exc}).")], 0
    if header is None:
        return [], [Problem(None, "The file is empty: its first line must name the columns.")], 0
    columns, option_numbers, problems = _header(header)
    if problems:
        return [], problems, 0
    total = text.count("\n")  # for progress only: a record may span lines
    rows = []
    records = 0
    start = reader.line_num + 1  # the line the next record starts on
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            records += 1
            if records % 1000 == 0:
                progress("Reading lines", reader.line_num, total)
            if len(cells) != len(columns):
                problems.append(Problem(line, f"{len(cells)} values for {len(columns)} columns."))
                continue
            row, errors = _row(line, dict(zip(columns, cells, strict=True)), option_numbers)
            problems.extend(Problem(line, error) for error in errors)
            if row:
                rows.append(row)
    except csv.Error as exc:
        problems.append(
            Problem(start, f"this line cannot be read as CSV ({exc}); reading stopped.")
        )
    progress("Reading lines", total, total)
    if not records and not problems:
        problems.append(Problem(None, "The file has no rows under its header."))
    return rows, problems, records


# --- Checking against the catalogue and planning -------------------------------------------


def _chunked(queryset, lookup, values):
    values = list(values)
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield from queryset.filter(**{f"{lookup}__in": values[start : start + LOOKUP_CHUNK]})


def _yes(value):
    return "yes" if value else "no"


def _pictures_by_product(product_ids):
    """Each product's picture file names (ProductImage), in their order."""
    pictures = defaultdict(tuple)
    rows = (
        ProductImage.objects.filter(product_id__in=product_ids)
        .order_by("product_id", "position", "pk")
        .values_list("product_id", "image")
    )
    for product_id, name in rows:
        pictures[product_id] += (name,)
    return pictures


def _combination(key_string):
    return frozenset(int(pk) for pk in key_string.split("-") if pk)


def _value_key(values):
    # Values saved already by their id, new ones by identity: one object per (type, value).
    return frozenset(value.pk if value.pk is not None else ("new", id(value)) for value in values)


@dataclass
class _Plan:
    new_products: list = field(default_factory=list)
    product_updates: list = field(default_factory=list)  # (product, fields)
    new_types: list = field(default_factory=list)
    new_values: list = field(default_factory=list)
    new_variants: list = field(default_factory=list)  # (variant, values)
    variant_updates: list = field(default_factory=list)  # (variant, fields, values or None)
    reprice: list = field(default_factory=list)  # products whose from/to prices may move
    picture_updates: list = field(default_factory=list)  # (product, file names)


class _Planner:
    def __init__(self, rows, result, progress):
        self.rows = rows
        self.result = result
        self.progress = progress
        self.plan = _Plan()
        self.picture_checked = {}

    def problem(self, line, message):
        self.result.problems.append(Problem(line, message))

    # Rows that must agree with each other, before the database is read.
    def check_rows(self):
        groups = {}
        for row in self.rows:
            groups.setdefault(row.slug, []).append(row)
        compared = (
            ("product_name", lambda r: r.name),
            ("category", lambda r: r.category),
            ("description", lambda r: r.description),
            ("product_active", lambda r: r.active),
            ("pictures", lambda r: r.pictures),
            ("option names", lambda r: r.option_names),
        )
        for slug, group in groups.items():
            first = group[0]
            for row in group[1:]:
                for label, get in compared:
                    here, there = get(row), get(first)
                    if here != there:
                        self.problem(
                            row.line,
                            f"{label} is {_show(here)} here but {_show(there)} on line "
                            f"{first.line}, for the same product {slug!r}: every row of a "
                            "product gives the same product fields.",
                        )
        lines_of_sku = {}
        for row in self.rows:
            if row.sku in lines_of_sku:
                self.problem(
                    row.line,
                    f"sku: {row.sku!r} is also on line {lines_of_sku[row.sku]}; one row per SKU.",
                )
            else:
                lines_of_sku[row.sku] = row.line
        return groups

    def load(self, groups):
        categories = list(Category.objects.all())
        self.categories = {c.slug: c for c in categories}
        self.category_slug = {c.pk: c.slug for c in categories}
        self.category_by_name = {c.name.lower(): c.slug for c in categories}
        self.products = {p.slug: p for p in _chunked(Product.objects.all(), "slug", groups)}
        self.variants = {
            v.sku: v
            for v in _chunked(
                ProductVariant.objects.annotate(product_slug=F("product__slug")),
                "sku",
                (row.sku for row in self.rows),
            )
        }
        ids = [p.pk for p in self.products.values()]
        self.pictures = defaultdict(tuple)
        for start in range(0, len(ids), LOOKUP_CHUNK):
            self.pictures.update(_pictures_by_product(ids[start : start + LOOKUP_CHUNK]))
        self.types = defaultdict(list)
        type_by_id = {}
        for option_type in _chunked(OptionType.objects.order_by("product_id"), "product_id", ids):
            self.types[option_type.product_id].append(option_type)
            type_by_id[option_type.pk] = option_type
        for types in self.types.values():
            types.sort(key=lambda t: (t.position, t.pk))
        self.values = defaultdict(dict)  # id(type) -> {value: OptionValue}
        self.next_value_position = defaultdict(int)
        for value in _chunked(OptionValue.objects.all(), "option_type__product_id", ids):
            option_type = type_by_id[value.option_type_id]
            value.option_type = option_type
            self.values[id(option_type)][value.value] = value
            self.next_value_position[id(option_type)] = max(
                self.next_value_position[id(option_type)], value.position + 1
            )
        self.siblings = defaultdict(list)  # every variant of the products in the file
        for pk, product_id, sku, combination, position in _chunked(
            ProductVariant.objects.values_list(
                "pk", "product_id", "sku", "combination", "position"
            ),
            "product_id",
            ids,
        ):
            self.siblings[product_id].append((pk, sku, combination, position))

    def run(self):
        groups = self.check_rows()
        self.load(groups)
        done = 0
        for slug, group in groups.items():
            self.plan_product(slug, group)
            done += len(group)
            if done % 1000 < len(group):
                self.progress("Checking rows", done, len(self.rows))
        self.progress("Checking rows", len(self.rows), len(self.rows))
        return self.plan

    def plan_product(self, slug, group):
        first = group[0]
        result, plan = self.result, self.plan
        category = self.categories.get(first.category)
        for row in group:
            if row.category not in self.categories:
                hint = self.category_by_name.get(row.category.lower())
                self.problem(
                    row.line,
                    f"category: there is no category {row.category!r}"
                    + (f" (did you mean its slug, {hint!r}?)" if hint else "")
                    + ". Give a category's slug; create new categories in the back office.",
                )
        product = self.products.get(slug)
        created = product is None
        if created:
            product = Product(
                slug=slug,
                name=first.name,
                category=category,
                description=first.description or "",
                is_active=True if first.active is None else first.active,
            )
            if first.pictures:
                self.check_pictures(first, first.pictures, ())
                plan.picture_updates.append((product, first.pictures))
        else:
            fields, changes = self.product_changes(product, first, category)
        if created:
            plan.new_products.append(product)
            result.counts["products_created"] += 1
            result.changes.append(Change(first.line, "product", slug, True))
        elif changes:
            if fields:
                plan.product_updates.append((product, fields))
            result.counts["products_changed"] += 1
            result.changes.append(Change(first.line, "product", slug, False, tuple(changes)))
        else:
            result.counts["products_unchanged"] += 1

        types = self.plan_types(product, created, first)
        self.plan_variants(product, created, group, types)

    def product_changes(self, product, first, category):
        """Apply the file's product fields to `product`: the model fields changed, and the
        changes as (column, before, after) for the preview."""
        fields, changes = [], []
        if product.name != first.name:
            changes.append(("product_name", product.name, first.name))
            product.name = first.name
            fields.append("name")
        if category and product.category_id != category.pk:
            before = self.category_slug.get(product.category_id, "")
            changes.append(("category", before, category.slug))
            product.category = category
            fields.append("category")
        if first.description is not None and product.description != first.description:
            changes.append(("description", _cut(product.description), _cut(first.description)))
            product.description = first.description
            fields.append("description")
        if first.active is not None and product.is_active != first.active:
            changes.append(("product_active", _yes(product.is_active), _yes(first.active)))
            product.is_active = first.active
            fields.append("is_active")
        current = self.pictures[product.pk]
        if first.pictures is not None and current != first.pictures:
            self.check_pictures(first, first.pictures, current)
            changes.append(
                (
                    "pictures",
                    PICTURE_SEPARATOR.join(current) or "(none)",
                    PICTURE_SEPARATOR.join(first.pictures) or "(none)",
                )
            )
            self.plan.picture_updates.append((product, first.pictures))
        return fields, changes

    def plan_types(self, product, created, first):
        """The product's option types in order, or None when the options cannot be used."""
        names = first.option_names
        if created:
            types = [
                OptionType(product=product, name=name, position=position)
                for position, name in enumerate(names or ())
            ]
            self.plan.new_types.extend(types)
            self.result.counts["option_types_created"] += len(types)
            return types
        types = self.types.get(product.pk, [])
        existing = tuple(t.name for t in types)
        if names is not None and names != existing:
            self.problem(
                first.line,
                f"options: the product {product.slug!r} has the options "
                f"{', '.join(existing) or '(none)'}, in that order; the file gives "
                f"{', '.join(names) or '(none)'}. Change a product's options in the back office.",
            )
            return None
        return types

    def values_for(self, row, types):
        values = []
        for option_type, (_, value) in zip(types, row.options, strict=True):
            known = self.values[id(option_type)].get(value)
            if known is None:
                known = OptionValue(
                    option_type=option_type,
                    value=value,
                    position=self.next_value_position[id(option_type)],
                )
                self.next_value_position[id(option_type)] += 1
                self.values[id(option_type)][value] = known
                self.plan.new_values.append(known)
                self.result.counts["option_values_created"] += 1
            values.append(known)
        return values

    def plan_variants(self, product, created, group, types):
        result, plan = self.result, self.plan
        in_file = {row.sku for row in group}
        taken = {}  # combination -> who has it
        next_position = 0
        if not created:
            for _, sku, combination, position in self.siblings.get(product.pk, []):
                next_position = max(next_position, position + 1)
                if sku not in in_file:
                    taken[_combination(combination)] = f"SKU {sku!r}, which is not in the file"
        reprice = created
        for row in group:
            variant = self.variants.get(row.sku)
            if variant is not None and (created or variant.product_id != product.pk):
                self.problem(
                    row.line,
                    f"sku: {row.sku!r} belongs to the product {variant.product_slug!r}; a SKU "
                    "cannot move to another product.",
                )
                continue
            values = None
            if types is None:  # the options are refused: the row's own checks go on
                key = None
            elif row.options is not None:
                values = self.values_for(row, types)
                key = _value_key(values)
            elif variant is not None:
                key = _combination(variant.combination)
            elif types:
                self.problem(
                    row.line,
                    f"options: the product {product.slug!r} has the options "
                    f"{', '.join(t.name for t in types)}: give the new SKU's values in option "
                    "columns.",
                )
                key = None
            else:
                values, key = [], frozenset()
            if key is not None:
                if key in taken:
                    self.problem(
                        row.line,
                        f"options: {_show_options(row.options, key)}, the same as {taken[key]}; "
                        "each variant of a product needs options of its own (a product without "
                        "options has one variant).",
                    )
                else:
                    taken[key] = f"SKU {row.sku!r} on line {row.line}"
            if variant is None:
                variant = ProductVariant(
                    product=product,
                    sku=row.sku,
                    price=row.price,
                    stock=row.stock,
                    is_active=True if row.variant_active is None else row.variant_active,
                    position=next_position,
                )
                next_position += 1
                reprice = True
                plan.new_variants.append((variant, values or []))
                result.counts["variants_created"] += 1
                result.changes.append(Change(row.line, "variant", row.sku, True))
                continue
            changes = []
            if variant.price != row.price:
                changes.append(("price", str(variant.price), str(row.price)))
                variant.price = row.price
                reprice = True
            if row.stock_at_export is not None and row.stock == row.stock_at_export:
                pass  # stock not edited in the file: leave it, with the sales made since
            elif variant.stock != row.stock:
                if row.stock_at_export is not None and variant.stock != row.stock_at_export:
                    result.warnings.append(
                        Problem(
                            row.line,
                            f"SKU {row.sku}: the stock was {row.stock_at_export} when exported "
                            f"and is {variant.stock} now; the file sets it to {row.stock}.",
                        )
                    )
                changes.append(("stock", str(variant.stock), str(row.stock)))
                variant.stock = row.stock
            if row.variant_active is not None and variant.is_active != row.variant_active:
                changes.append(
                    ("variant_active", _yes(variant.is_active), _yes(row.variant_active))
                )
                variant.is_active = row.variant_active
                reprice = True
            if values is not None:
                label = variant_label(values)
                if key != _combination(variant.combination) or label != variant.label:
                    changes.append(("options", variant.label or "(none)", label or "(none)"))
                else:
                    values = None  # the same options: nothing to write
            if changes:
                fields = tuple(
                    {"variant_active": "is_active", "options": "combination"}.get(name, name)
                    for name, _, _ in changes
                )
                plan.variant_updates.append((variant, fields, values))
                result.counts["variants_changed"] += 1
                result.changes.append(Change(row.line, "variant", row.sku, False, tuple(changes)))
            else:
                result.counts["variants_unchanged"] += 1
        if reprice:
            plan.reprice.append(product)

    def check_pictures(self, row, names, current):
        for name in names:
            if name in current:
                continue
            if name not in self.picture_checked:
                self.picture_checked[name] = _picture_problem(name)
            if self.picture_checked[name]:
                self.problem(row.line, f"pictures: {self.picture_checked[name]}")


def _picture_problem(name):
    if (
        name.startswith(PENDING_FOLDER)
        or ".renditions/" in name  # the gallery's resized copies of a picture
        or not name.lower().endswith(PICTURE_EXTENSIONS)
    ):
        return f"{name!r} is not a picture's file name (.jpg, .jpeg, .png, .webp or .gif)."
    try:
        exists = picture_storage().exists(name)
    except (SuspiciousFileOperation, ValueError, OSError):
        exists = False
    if not exists:
        return (
            f"there is no file {name!r} in the media storage. Pictures are named by their path "
            "there (e.g. products/2026/11/mug.jpg); add the file first."
        )
    return None


def _show(value):
    if value is None:
        return "(no column)"
    if isinstance(value, bool):
        return _yes(value)
    if isinstance(value, tuple):
        return repr(", ".join(value)) if value else "(none)"
    return repr(_cut(value))


def _show_options(options, key):
    if options:
        return " / ".join(f"{name}: {value}" for name, value in options)
    return "none" if not key else "those it has"


def _cut(text, length=60):
    return text if len(text) <= length else text[: length - 1] + "…"


# --- Writing ---------------------------------------------------------------------------------


def _bulk_update(model, items, progress, step):
    """Update each object's own changed fields only: a field the file does not change is not
    written back from the values read earlier (a sale in the meantime keeps its stock)."""
    by_fields = defaultdict(list)
    for obj, fields in items:
        by_fields[tuple(sorted(set(fields)))].append(obj)
    done = 0
    for fields, objs in by_fields.items():
        _update_rows(model, objs, [*fields, "updated"])
        done += len(objs)
        progress(step, done, len(items))


def _update_rows(model, objs, fields):
    """Write `fields` of each object: on PostgreSQL one UPDATE ... FROM (VALUES ...) per BATCH
    rows (Django's bulk_update builds a CASE WHEN per row and field, and spends seconds of CPU
    on 10,000 rows doing so); elsewhere bulk_update."""
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=BATCH)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    names = ", ".join(quote(column.column) for column in columns)
    sets = ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
    row_sql = "(" + ", ".join(f"%s::{column.db_type(connection)}" for column in columns) + ")"
    pk = quote(meta.pk.column)
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            batch = objs[start : start + BATCH]
            params = [
                column.get_db_prep_save(getattr(obj, column.attname), connection)
                for obj in batch
                for column in columns
            ]
            # Only names from the model's own metadata are put in the text; values are params.
            cursor.execute(
                f"UPDATE {quote(meta.db_table)} AS t SET {sets} "  # noqa: S608
                f"FROM (VALUES {', '.join([row_sql] * len(batch))}) AS v ({names}) "
                f"WHERE t.{pk} = v.{pk}",
                params,
            )


def _apply(plan, progress):
    now = timezone.now()
    Product.objects.bulk_create(plan.new_products, batch_size=BATCH)
    progress("Writing products", len(plan.new_products), len(plan.new_products))
    for product, _ in plan.product_updates:
        product.updated = now
    _bulk_update(Product, plan.product_updates, progress, "Updating products")
    OptionType.objects.bulk_create(plan.new_types, batch_size=BATCH)
    OptionValue.objects.bulk_create(plan.new_values, batch_size=BATCH)

    # Variants whose options change go through a placeholder first: two of them may swap
    # combinations, which the unique constraint would refuse half-way through.
    moving = [(variant, values) for variant, _, values in plan.variant_updates if values]
    for variant, _ in moving:
        variant.combination = f"~{variant.pk}"
    _update_rows(ProductVariant, [variant for variant, _ in moving], ["combination"])
    for variant, values in moving:
        variant.combination = combination_key(value.pk for value in values)
        variant.label = variant_label(values)
    for variant, _, _ in plan.variant_updates:
        variant.updated = now
    _bulk_update(
        ProductVariant,
        [
            (variant, [*fields, "label"] if "combination" in fields else fields)
            for variant, fields, _ in plan.variant_updates
        ],
        progress,
        "Updating variants",
    )
    for variant, values in plan.new_variants:
        variant.combination = combination_key(value.pk for value in values)
        variant.label = variant_label(values)
    new_variants = [variant for variant, _ in plan.new_variants]
    for start in range(0, len(new_variants), BATCH):
        ProductVariant.objects.bulk_create(new_variants[start : start + BATCH])
        progress(
            "Writing variants", start + len(new_variants[start : start + BATCH]), len(new_variants)
        )

    chosen = [*moving, *plan.new_variants]
    moved = [variant.pk for variant, _ in moving]
    for start in range(0, len(moved), LOOKUP_CHUNK):
        VariantOption.objects.filter(variant_id__in=moved[start : start + LOOKUP_CHUNK]).delete()
    VariantOption.objects.bulk_create(
        (
            VariantOption(variant=variant, option_type_id=value.option_type_id, value=value)
            for variant, values in chosen
            for value in values
        ),
        batch_size=BATCH,
    )

    # product_prices_refresh in bulk: the lowest and highest price of the active variants.
    active = ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True).order_by()
    ids = [product.pk for product in plan.reprice]
    for start in range(0, len(ids), LOOKUP_CHUNK):
        Product.objects.filter(pk__in=ids[start : start + LOOKUP_CHUNK]).update(
            price_min=Subquery(active.values("product").annotate(low=Min("price")).values("low")),
            price_max=Subquery(active.values("product").annotate(high=Max("price")).values("high")),
        )
    progress("Updating prices", len(ids), len(ids))

    # Pictures through the gallery's own rule (new files get renditions queued, files no
    # picture uses any more are deleted): a product at a time, only for the products whose
    # pictures the file changes.
    for done, (product, names) in enumerate(plan.picture_updates, 1):
        product_pictures_set(product, list(names))
        progress("Writing pictures", done, len(plan.picture_updates))


def import_products(data: bytes, *, dry_run=False, progress: Progress = _no_progress):
    """Check the CSV file and, unless dry_run or anything is wrong, apply it in one transaction.

    Returns an ImportResult: its problems (with line numbers) when nothing was written, else
    what was (or, on a dry run, would be) created and changed.
    """
    started = time.perf_counter()
    result = ImportResult()
    rows, problems, result.rows = read_rows(data, progress)
    result.problems.extend(problems)
    if not rows:
        result.seconds = time.perf_counter() - started
        return result
    try:
        with transaction.atomic():
            # Rows with problems of their own are left out, and the others still checked
            # against each other and the catalogue, so that every problem is listed at once.
            plan = _Planner(rows, result, progress).run()
            if result.problems:  # what the good rows would do is beside the point
                result.changes.clear()
                result.warnings.clear()
                result.counts.clear()
            if result.problems or dry_run or not result.changes:
                result.changes.sort(key=lambda change: change.line)
                result.seconds = time.perf_counter() - started
                return result
            _apply(plan, progress)
            catalog_changed()
            result.applied = True
    except IntegrityError as exc:
        # Someone added the same slug, SKU or options while the import ran: nothing is saved.
        result.problems.append(
            Problem(
                None,
                "The catalogue changed while the import was being written, so nothing was "
                f"saved; run the import again. ({str(exc).splitlines()[0]})",
            )
        )
        result.changes.clear()
    except DatabaseError as exc:
        result.problems.append(
            Problem(None, f"The database refused the import, so nothing was saved: {exc}")
        )
        result.changes.clear()
    result.changes.sort(key=lambda change: change.line)
    result.seconds = time.perf_counter() - started
    return result


# --- Export ----------------------------------------------------------------------------------


def export_header(option_pairs):
    options = [
        f"option{n}_{part}" for n in range(1, option_pairs + 1) for part in ("name", "value")
    ]
    return [*COLUMNS, *options]


EXPORT_CHUNK = 500  # products read at a time


def export_rows(progress: Progress = _no_progress) -> Iterator[list[str]]:
    """The header, then one row per variant (products in the order they were created, each
    product's variants in their order): exactly the columns and values the import reads.

    Read in chunks of products, as plain values, inside one transaction that on PostgreSQL sees
    one snapshot of the catalogue (REPEATABLE READ), so a change made while a large export
    runs is in it entirely or not at all.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql" and not connection.savepoint_ids:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield from _export_rows(progress)


def _export_rows(progress):
    per_product = Counter(OptionType.objects.values_list("product_id", flat=True))
    pairs = max(1, max(per_product.values(), default=0))
    yield export_header(pairs)
    total = ProductVariant.objects.count()
    done = 0
    last = 0
    columns = ("pk", "slug", "name", "category__slug", "description", "is_active")
    while True:
        products = list(
            Product.objects.filter(pk__gt=last).order_by("pk").values_list(*columns)[:EXPORT_CHUNK]
        )
        if not products:
            break
        last = products[-1][0]
        ids = [product[0] for product in products]
        types = defaultdict(list)
        for product_id, type_id, name in (
            OptionType.objects.filter(product_id__in=ids)
            .order_by("product_id", "position", "pk")
            .values_list("product_id", "pk", "name")
        ):
            types[product_id].append((type_id, name))
        chosen = defaultdict(dict)
        for variant_id, type_id, value in VariantOption.objects.filter(
            variant__product_id__in=ids
        ).values_list("variant_id", "option_type_id", "value__value"):
            chosen[variant_id][type_id] = value
        variants = defaultdict(list)
        for variant in (
            ProductVariant.objects.filter(product_id__in=ids)
            .order_by("product_id", "position", "pk")
            .values_list("product_id", "pk", "sku", "price", "stock", "is_active")
        ):
            variants[variant[0]].append(variant)
        pictures_of = _pictures_by_product(ids)
        for product_id, slug, name, category, description, is_active in products:
            pictures = PICTURE_SEPARATOR.join(pictures_of[product_id])
            for _, variant_id, sku, price, stock, variant_active in variants[product_id]:
                options = []
                for type_id, option in types[product_id]:
                    options += [option, chosen[variant_id].get(type_id, "")]
                options += [""] * (2 * pairs - len(options))
                yield [
                    slug,
                    name,
                    category,
                    description,
                    _yes(is_active),
                    pictures,
                    sku,
                    str(price),
                    str(stock),
                    str(stock),
                    _yes(variant_active),
                    *options,
                ]
                done += 1
        progress("Exporting variants", done, total)


class _Line:
    """A file-like object that hands back what csv.writer writes, for streaming."""

    def write(self, text):
        return text


def export_lines(progress: Progress = _no_progress) -> Iterator[str]:
    writer = csv.writer(_Line())
    for row in export_rows(progress):
        yield writer.writerow(row)


class TextProgress:
    """Progress of an import or export on a stream (the command's stderr, a Django
    OutputWrapper), for runs of at least LONG_RUN items: a bar redrawn in place on a terminal,
    else one line as each step ends."""

    LONG_RUN = 1000
    WIDTH = 30

    def __init__(self, stream, *, enabled=True):
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self.step = None
        self.ended = False
        self.drawn = 0.0
        self.started = time.perf_counter()

    def write(self, text, ending="\n"):
        # Plain text: Django would colour a terminal's stderr as errors.
        self.stream.write(text, style_func=str, ending=ending)

    def __call__(self, step, done, total):
        if not self.enabled or total < self.LONG_RUN:
            return
        if step != self.step:
            self.step, self.ended, self.started = step, False, time.perf_counter()
        if self.ended:
            return
        now = time.perf_counter()
        self.ended = done >= total
        if self.tty and (self.ended or now - self.drawn >= 0.1):
            filled = self.WIDTH * min(done, total) // total
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.write(f"\r{step:<18} [{bar}] {min(done, total):>9,}/{total:,}", ending="")
            self.drawn = now
            if self.ended:
                self.write(f" {now - self.started:.1f}s")
        elif not self.tty and self.ended:
            self.write(f"{step}: {total:,} in {now - self.started:.1f}s")
