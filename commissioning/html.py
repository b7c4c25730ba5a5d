"""User and document text is rich text in a small, safe subset of HTML."""

import html

import nh3

ALLOWED_TAGS = {"p", "ul", "ol", "li", "strong", "em", "b", "i", "a", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitise_html(text: str) -> str:
    """Keep lists, emphasis and links; drop everything else (scripts, styles, handlers)."""
    return nh3.clean(
        text or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def plain_text(text: str) -> str:
    """Rich text as the words a reader sees: tags dropped and entities decoded (escape it
    again when it goes into a page; it is text, not HTML)."""
    return html.unescape(nh3.clean(text or "", tags=set())).strip()


def sanitising_admin_form(*fields: str):
    """A ModelForm base for an admin whose `fields` are rich text the pages show as HTML:
    sanitised on save, as the pages' own forms do, so the admin cannot store a script."""
    from django import forms

    class SanitisingForm(forms.ModelForm):
        def clean(self):
            data = super().clean()
            for name in fields:
                if data.get(name):
                    data[name] = sanitise_html(data[name])
            return data

    return SanitisingForm
