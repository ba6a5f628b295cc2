"""The Part 2 marking of what leaves the programme (42 CFR 2.32, docs/part2.md): the one owner of the notice's short
form that every identified CSV carries as its first row. The printed notice (statement 1 of 2.32(a)(1), in English
and Spanish) is the template macro `part2_notice` in templates/part2/_notice.html, which every printed packet,
statement and identified page includes.
"""

from __future__ import annotations

# Statement 2 of 42 CFR 2.32(a)(2) as amended in 2024, which the rule allows in place of the long statement; a
# spreadsheet shows it in the first cell, above the header, where whoever opens the file reads it first.
SHORT_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
CSV_NOTICE_ROW = (f"# {SHORT_NOTICE} Confidential substance use disorder patient records; "
                  "do not redisclose without the patient's written consent.",)
