"""The closed parts of a sealed recording on its playback page (R32 for part of a hearing): the
list for every member of staff who plays it, the way to the judge's page that decides them."""

from __future__ import annotations

from typing import Any

from django import template

from taspa.recorder.selectors import current_portions, recorded_extent

register = template.Library()


@register.inclusion_tag("web/_closed_portions_panel.html", takes_context=True)
def closed_portions_panel(context: template.Context) -> dict[str, Any]:
    recording = context["recording"]
    user = context["request"].user
    return {
        "recording": recording,
        "rows": current_portions(recording.hearing),
        "duration": recorded_extent(recording, None),
        "is_judge": user.pk == recording.hearing.judge_id,
    }
