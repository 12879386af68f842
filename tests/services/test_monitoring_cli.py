"""``bekal monitoring`` and ``bekal rules check|test`` on monitoring rules, as a user runs them."""

from __future__ import annotations

import json

from tests.support.cli import bekal
from tests.support.paths import RULES, copy_of
from tests.support.servers import checked_eligible


def test_explain_shows_the_facts_and_the_rules_that_fire():
    got = bekal("monitoring", "explain", "--start", "2019-07-01", "--attendance", "present,absent,absent,absent",
                "--conduct", "2,2", "--rules", str(RULES))
    assert got.code == 0, got.text
    assert "enrolment.consecutive_unexcused_absences = 3" in got.out
    assert "ALERT three-unexcused-absences" in got.out and "ALERT two-low-conduct-ratings" in got.out
    assert "attendance-below-80" not in got.out  # four sessions: not yet five
    bad = bekal("monitoring", "explain", "--start", "2019-07-01", "--attendance", "present,gone")
    assert bad.code == 2 and "gone" in bad.err and "Traceback" not in bad.err



def test_explain_without_monitoring_rules_is_an_error_not_a_quiet_no(tmp_path):
    """A wrong --rules folder (or the default run from another folder) must not read as "no rule fires"."""
    for folder in (tmp_path / "nowhere", tmp_path):
        got = bekal("monitoring", "explain", "--start", "2019-07-01", "--attendance", "absent,absent,absent",
                    "--rules", str(folder))
        assert got.code == 1, got.text
        assert "no monitoring rules here" in got.err and "no monitoring rule fires" not in got.out

def test_rules_check_and_test_cover_the_monitoring_rules(tmp_path):
    rules = copy_of(RULES, tmp_path)
    ok = bekal("rules", "check", str(rules))
    assert ok.code == 0 and "monitoring OK: 3 rule(s), 7 test(s)" in ok.out, ok.text
    tested = bekal("rules", "test", str(rules))
    assert tested.code == 0 and "monitoring rule tests: 7 passed, 0 failed" in tested.out, tested.text
    path = rules / "monitoring.rules.yaml"
    path.write_text(path.read_text().replace("enrolment.low_conduct_ratings >= 2", "enrolment.low_ratings >= 2"))
    broken = bekal("rules", "check", str(rules))
    assert broken.code == 1 and "monitoring.rules.yaml:" in broken.err
    assert "did you mean 'enrolment.low_conduct_ratings'?" in broken.err
    path.write_text(path.read_text().replace("enrolment.low_ratings >= 2", "enrolment.low_conduct_ratings >= 3"))
    failing = bekal("rules", "test", str(rules))
    assert failing.code == 1 and "FAIL two low conduct ratings raise an alert" in failing.out, failing.text



def test_a_monitoring_rule_that_divides_by_a_fact_is_refused_where_it_divides(tmp_path):
    """sessions_held is 0 before the first session: the enrolment could never be judged, every batch
    about it refused on each retry. The checker refuses the rule, at the division."""
    rules = copy_of(RULES, tmp_path)
    path = rules / "monitoring.rules.yaml"
    text = path.read_text()
    old = "when: enrolment.sessions_held >= 5 and enrolment.attendance_rate < 80"
    assert old in text
    path.write_text(text.replace(old, "when: enrolment.sessions_attended / enrolment.sessions_held < 0.8"))
    line = text[:text.index(old)].count("\n") + 1
    broken = bekal("rules", "check", str(rules))
    assert broken.code == 1, broken.text
    assert (f"monitoring.rules.yaml:{line}:11: a monitoring rule may not divide by a fact: enrolment.sessions_held "
            "can be 0") in broken.err
    path.write_text(text.replace(old, "when: enrolment.sessions_held < enrolment.unexcused_absences * 2"))
    assert bekal("rules", "check", str(rules)).code == 0  # multiplied instead: judged on every history

def test_import_attendance_and_watch_alerts(start_server, rules_dir, tmp_path):
    server = start_server(rules_dir)
    listed = _csv(tmp_path / "e.csv", "client_id,course_code", ["I-1,LAS-01", "I-2,LAS-01"])
    unproven = bekal("monitoring", "enrol", "--file", str(listed), *server.cli_args())
    assert unproven.code != 0 and "enrolments[0]: no eligibility check of this client for LAS-01" in unproven.err, (
        unproven.text)
    with server.connect() as bnn:
        checked_eligible(bnn, "I-1", "I-2")
    enrolled = bekal("monitoring", "enrol", "--file", str(listed), *server.cli_args())
    assert enrolled.code == 0, enrolled.text
    eids = [json.loads(line)["enrolment_id"] for line in enrolled.out.splitlines()]
    rows = [f"a{k},{eids[0]},2019-07-0{k + 1},absent" for k in range(3)]
    bad = _csv(tmp_path / "bad.csv", "record_id,enrolment_id,session_date,status",
               [*rows, f"b1,{eids[1]},2019-07-32,present", f"b2,{eids[1]},2019-07-02,asleep"])
    refused = bekal("monitoring", "import", str(bad), *server.cli_args("blk-kalsel"))
    assert refused.code == 1
    assert f"{bad}:5:3: session_date: not a date" in refused.err and f"{bad}:6:4: status:" in refused.err
    late = _csv(tmp_path / "late.csv", "record_id,enrolment_id,session_date,status",
                [*rows, f"b1,{eids[1]},2019-06-30,present"])
    refused = bekal("monitoring", "import", str(late), *server.cli_args("blk-kalsel"))
    assert refused.code == 1 and f"{late}:5: session_date:" in refused.err and "before the course start" in refused.err
    good = _csv(tmp_path / "good.csv", "record_id,enrolment_id,session_date,status", rows)
    done = bekal("monitoring", "import", str(good), *server.cli_args("blk-kalsel"))
    assert done.code == 0 and "3 recorded, 0 already there, 1 alert(s) raised" in done.out, done.text
    again = bekal("monitoring", "import", str(good), *server.cli_args("blk-kalsel"))
    assert "0 recorded, 3 already there, 0 alert(s) raised" in again.out
    watched = bekal("monitoring", "watch", "--no-follow", *server.cli_args())
    alerts = [json.loads(line) for line in watched.out.splitlines()]
    assert [(a["rule_id"], a["enrolment_id"]) for a in alerts] == [("three-unexcused-absences", eids[0])]
    after = bekal("monitoring", "watch", "--no-follow", "--after", str(alerts[0]["sequence"]), *server.cli_args())
    assert after.code == 0 and after.out == ""
    refused = bekal("monitoring", "alerts", *server.cli_args("blk-kalsel"))
    assert refused.code == 1 and "PERMISSION_DENIED" in refused.err


def _csv(path, header, rows):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path
