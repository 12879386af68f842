"""Monitoring never takes silence for "no alert": rules not dated for a day judge nothing on it."""

from __future__ import annotations

from datetime import date

import pytest

from bekal.engine import NotInForce
from bekal.monitoring.rules import judge, load_from_texts, monitoring_files
from tests.support.paths import RULES


def test_a_day_the_monitoring_rules_are_not_in_force_on_is_refused_not_silent():
    files = monitoring_files(RULES)
    name = next(n for n in files if n.endswith("monitoring.rules.yaml"))
    text = files[name]
    assert "  from: 2016-01-01\n" in text
    files[name] = text.replace("  from: 2016-01-01\n", "  from: 2016-01-01\n  until: 2019-12-31\n")
    rules = load_from_texts(files)
    absent = {"enrolment.consecutive_unexcused_absences": 5, "enrolment.sessions_held": 5}
    assert [f.rule_id for f in judge(rules, [(absent, date(2019, 12, 30))])[0]] == ["three-unexcused-absences"]
    with pytest.raises(NotInForce):
        judge(rules, [(absent, date(2019, 12, 30)), (absent, date(2020, 1, 9))])
