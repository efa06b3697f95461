from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustodyConfig(AppConfig):
    name = "taspa.custody"
    label = "custody"
    verbose_name = _("Case-file media")

    def ready(self) -> None:
        from taspa.courts.selectors import HEARING_DETAIL_PARTS
        from taspa.custody.selectors import media_part

        HEARING_DETAIL_PARTS.append(media_part)
