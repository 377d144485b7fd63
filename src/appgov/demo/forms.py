"""HTML forms read the way a browser submits them: hidden and text inputs with their values, the
options of each ``<select>``, the values of the named submit buttons."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)  # hidden and text inputs
    options: dict[str, list[str]] = field(default_factory=dict)  # <select> name -> option values
    buttons: dict[str, list[str]] = field(default_factory=dict)  # submit button name -> values


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and "name" in a and a.get("type") not in ("password", "checkbox", "radio"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name", "")
            self.forms[-1].options[self._select] = []
        elif tag == "option" and self._select is not None:
            self.forms[-1].options[self._select].append(a.get("value", ""))
        elif tag == "button" and "name" in a:
            self.forms[-1].buttons.setdefault(a["name"], []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def the_form(html: str) -> Form:
    forms = forms_of(html)
    assert len(forms) == 1, f"expected one form, found {len(forms)}"
    return forms[0]


def form_posting_to(html: str, action: str) -> Form:
    """The page's form that posts to ``action`` (a page may hold several, e.g. sign-out)."""
    for form in forms_of(html):
        if form.action.split("?", 1)[0] == action:
            return form
    raise LookupError(f"no form posts to {action}")
