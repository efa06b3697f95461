"""The password rule (``courts.actions.require_password``) as a Django password validator, so
that Django's own paths — ``taspa createsuperuser`` asking at the console, ``taspa
changepassword``, the admin site's forms — refuse what the API and the web refuse (R20: a
court's system is opened by a password only its holder knows, not by one anyone guesses)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from taspa.courts.actions import MIN_PASSWORD_LENGTH, require_password
from taspa.errors import InvalidInput


class TaspaPasswordRule:
    """``AUTH_PASSWORD_VALIDATORS`` entry: the one rule, in the reader's language."""

    def validate(self, password: str, user: object = None) -> None:
        try:
            require_password(password)
        except InvalidInput as refusal:
            raise ValidationError(refusal.detail, code=refusal.code) from None

    def get_help_text(self) -> str:
        return _("At least %(limit_value)d characters.") % {"limit_value": MIN_PASSWORD_LENGTH}
