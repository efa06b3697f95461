"""``{% regulation_version %}``: the text of the rules the system follows, on every page."""

from __future__ import annotations

from django import template
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from taspa import regulation

register = template.Library()


@register.simple_tag
def regulation_version() -> str:
    amended_on, number, _clause = regulation.LATEST_AMENDMENT
    return _(
        "Rules of technical use of audio and video recording, order No. %(order)s of "
        "%(order_date)s: consolidated text of %(as_of)s with the amendment of %(amended)s "
        "No. %(number)s."
    ) % {
        "order": regulation.ORDER_NUMBER,
        "order_date": date_format(regulation.ORDER_DATE, "d.m.Y"),
        "as_of": date_format(regulation.CONSOLIDATED_AS_OF, "d.m.Y"),
        "amended": date_format(amended_on, "d.m.Y"),
        "number": number,
    }
