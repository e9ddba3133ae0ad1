"""HTML for the page's parts, from the assistant's records. Drawing only: what goes on a
card is decided in `assistant.cards`. Every catalog string is escaped."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from assistant.cards import ProductCard
from assistant.feedback import ProductView
from assistant.records import CartItem, Chip, CompareTable
from base.language.money import format_money
from ranking.related import Neighbour

# Every character Markdown (CommonMark, as Gradio's chat renders it) could read as syntax
MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|~<>$&:")


def plain_text(text: str) -> str:
    """Text for a Markdown component, shown exactly as written: a product title holding
    `![x](http://…)` or `[90 % off](…)` is text, never an image fetched or a link."""
    out = []
    for ch in text:
        if ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "&":
            out.append("&amp;")
        elif ch in MARKDOWN_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def from_plain_text(shown: str) -> str:
    """The text `plain_text` was given (for an API client reading the chat's value)."""
    import html
    import re

    return html.unescape(re.sub(r"\\(.)", r"\1", shown))


def file_url(path: str) -> str:
    """Gradio serves files under `allowed_paths` at this route."""
    return "/gradio_api/file=" + quote(path)


def money(value: float | None, currency: str = "USD") -> str:
    return "" if value is None else format_money(value, currency)


def stars(rating: float | None, count: int) -> str:
    if not rating:
        return '<span class="muted">no reviews yet</span>'
    full = round(rating)
    return (
        f'<span class="stars" aria-label="rated {rating:.1f} of 5">'
        f"{'★' * full}{'☆' * (5 - full)}</span> "
        f'<span class="muted">{rating:.1f} ({count})</span>'
    )


def card_html(card: ProductCard) -> str:
    photo = (
        f'<img src="{file_url(card.photo)}" alt="{escape(card.title)}" loading="lazy">'
        if card.photo
        else '<div class="no-photo">no photo</div>'
    )
    was = (
        f' <s class="muted">{money(card.list_price, card.currency)}</s>' if card.list_price else ""
    )
    stock = "" if card.available else ' <span class="stock">out of stock</span>'
    facts = "".join(f"<li>{escape(f)}</li>" for f in card.facts)
    reason = f'<p class="reason">{escape(card.reason)}</p>' if card.reason else ""
    return (
        f'<div class="card" data-product="{escape(card.product_id)}">'
        f'<div class="photo">{photo}<span class="pos">{card.position}</span></div>'
        f'<div class="body"><div class="title">{escape(card.title)}</div>'
        f'<div class="price">{money(card.price, card.currency) or "price on request"}{was}'
        f"{stock}</div>"
        f'<div class="rating">{stars(card.rating, card.review_count)}</div>'
        f'<ul class="facts">{facts}</ul>{reason}</div></div>'
    )


def cards_html(cards: list[ProductCard]) -> str:
    """The suggestions, each card with its option picker, "Details" and "Add to cart". One
    HTML value for the whole list, not a component per control: drawing 5 cards as Gradio
    components cost the server a render event with some 30 components and 10 listeners a
    turn (measured, `evals/benchmarks/serve.py`). The buttons reach the server through one
    listener each (`ACTIONS_JS`); what they send is checked there like any request."""
    cells = []
    for card in cards:
        pid = escape(card.product_id)
        chosen = card.variant or (card.variants[0] if card.variants else None)
        options = "".join(
            f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(v)}</option>'
            for v in card.variants
        )
        picker = (
            f'<select class="option" aria-label="Option for {escape(card.title)}">'
            f"{options}</select>"
            if len(card.variants) > 1
            else ""
        )
        only = f' data-option="{escape(chosen)}"' if chosen and not picker else ""
        add = (
            f'<button class="action primary" data-action="add" data-product="{pid}"{only}>'
            "Add to cart</button>"
            if card.available  # nothing out of stock goes into a cart
            else '<button class="action primary" disabled>Out of stock</button>'
        )
        cells.append(
            f'<div class="card-cell" data-cell>{card_html(card)}{picker}'
            f'<div class="actions"><button class="action" data-action="details" '
            f'data-product="{pid}">Details</button>{add}</div></div>'
        )
    return f'<div class="cards">{"".join(cells)}</div>' if cells else ""


def chips_html(chips: list[Chip]) -> str:
    """The understood constraints, each a button that removes it."""
    if not chips:
        return ""

    def strict(c: Chip) -> str:  # a soft chip can be made the shopper's own: it filters then
        return (
            f'<button class="chip-strict" data-action="strict" data-chip="{escape(c.key)}" '
            f'title="only products with {escape(c.label)}">only</button>'
            if c.soft
            else ""
        )

    buttons = "".join(
        f'<button class="chip{" soft" if c.soft else ""}" data-action="drop" '
        f'data-chip="{escape(c.key)}"'
        + (' title="preferred: it ranks the products, it does not filter them"' if c.soft else "")
        + f">{'~ ' if c.soft else ''}{escape(c.label)} ✕</button>"
        + strict(c)
        for c in chips
    )
    return f'<div class="chips"><span class="muted">Looking for:</span>{buttons}</div>'


# The page's own buttons inside an HTML value: one delegated listener (it survives every
# new value), sending what was pressed. "Add to cart" arrives as the HTML's `submit`
# event, "Details" and a chip's ✕ as its `click`.
ACTIONS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  if (!button || button.disabled) return;
  const picker = button.closest('[data-cell]')?.querySelector('select');
  const option = picker ? picker.value : (button.dataset.option ?? null);
  const data = {action: button.dataset.action, product: button.dataset.product || '',
                chip: button.dataset.chip || '', option: option};
  trigger(button.dataset.action === 'add' ? 'submit' : 'click', data);
});
"""


DETAIL_CHARS = 6_000  # a description sent to the page is cut here (a catalog may hold MBs)


def detail_html(view: ProductView) -> str:
    p = view.product
    description = p.description[:DETAIL_CHARS] + ("…" if len(p.description) > DETAIL_CHARS else "")
    text = escape(description.split("•")[0].strip())
    bullets = "".join(
        f"<li>{escape(b.strip())}</li>" for b in description.split("•")[1:][:40] if b.strip()
    )
    attrs = "".join(
        f"<tr><th>{escape(k.replace('_', ' '))}</th><td>{escape(', '.join(p.values(k)))}</td></tr>"
        for k in p.facet_keys()
        if p.values(k)
    )
    reviews = "".join(
        f'<div class="review"><b>{escape(r.title or "Review")}</b> '
        f"{stars(r.rating, 1) if r.rating else ''}<p>{escape(r.text)}</p>"
        f'<span class="muted">{escape(r.reviewer)}</span></div>'
        for r in p.reviews[:5]
    )
    return (
        f'<div class="detail"><h3>{escape(p.title)}</h3>'
        f'<div class="price">{money(p.price, p.currency)}'
        f"{'' if p.available else ' <span class=stock>out of stock</span>'}</div>"
        f"<div>{stars(p.rating, p.review_count)}</div>"
        f"<p>{text}</p><ul>{bullets}</ul>"
        f'<table class="attrs">{attrs}</table>'
        f"<h4>Reviews</h4>{reviews or '<p class=muted>No reviews yet.</p>'}</div>"
    )


def related_choices(neighbours: list[Neighbour], goes_with: bool) -> list[tuple[str, str]]:
    """Radio choices (label, product id) for a list of related products, each saying where
    it came from, so a shopper (and a shop) can tell behaviour from look-alikes."""
    out = []
    for n in neighbours:
        if n.source == "behaviour":
            why = f"{'bought' if goes_with else 'looked at'} together in {n.sessions} sessions"
        else:
            why = "another kind, close in description" if goes_with else "similar product"
        stock = "" if n.available else ", out of stock"
        out.append((f"{n.title} ({why}{stock})", n.product_id))  # a label is plain text
    return out


def compare_markdown(table: CompareTable) -> str:
    """A comparison in the chat as a real table; every catalog string is escaped (an
    escaped "|" stays inside its cell)."""
    cols = " | ".join(plain_text(c) for c in table.columns)
    rows = [
        f"| {plain_text(r.name)} | " + " | ".join(plain_text(v) for v in r.values) + " |"
        for r in table.rows
    ]
    lines = [plain_text(table.title), "", f"| | {cols} |", "|---" * (len(table.columns) + 1) + "|"]
    return "\n".join([*lines, *rows, *(["", plain_text(table.note)] if table.note else [])])


def compare_html(rows: list[tuple[str, list[str]]]) -> str:
    head, *body = rows
    cols = "".join(f"<th>{escape(t)}</th>" for t in head[1])
    trs = "".join(
        f"<tr><th>{escape(name)}</th>{''.join(f'<td>{escape(v)}</td>' for v in values)}</tr>"
        for name, values in body
    )
    return f'<table class="compare"><tr><th></th>{cols}</tr>{trs}</table>'


def cart_html(cart: list[CartItem]) -> str:
    if not cart:
        return '<p class="muted">Your cart is empty.</p>'
    rows = "".join(
        f"<tr><td>{escape(i.title)}<br><span class='muted'>"
        f"{escape(i.label)}</span></td>"
        f"<td>{i.quantity}</td><td>{money(i.price, i.currency)}</td></tr>"
        for i in cart
    )
    total = sum((i.price or 0) * i.quantity for i in cart)
    return (
        f'<table class="cart">{rows}<tr class="total"><td>Total</td><td></td>'
        f"<td>{money(total, cart[0].currency)}</td></tr></table>"
    )
