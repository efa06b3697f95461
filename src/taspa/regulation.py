"""Which text of the regulation Taspa follows (order п.5 and every rule table's source).

The Rules of technical use of audio and video recording (order No. 6001-15-7-6/486 of
24 November 2015, registered by the Ministry of Justice on 22 December 2015, No. 12457), in the
consolidated text published «в редакции от 03.06.2025», which already carries the amendment of
17.03.2026 No. 1 (п.5). The Russian text is ``shared/seed/recording-rules-ru.md``; R1–R35 are the
clause ids of ``REQUIREMENTS.md``. Pure: the standard library only.
"""

from __future__ import annotations

from datetime import date

ORDER_NUMBER = "6001-15-7-6/486"
ORDER_DATE = date(2015, 11, 24)
CONSOLIDATED_AS_OF = date(2025, 6, 3)
# The latest amendment the consolidated text carries: (date, number, the clause it changed).
LATEST_AMENDMENT = (date(2026, 3, 17), "1", "5")
