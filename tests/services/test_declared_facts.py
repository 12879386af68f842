"""Declared facts through the services: one typed map on Client and Course (``declared``), checked against
the facts file of the rules that decide the request; an undeclared key or a wrong type is INVALID_ARGUMENT
naming ``client.declared[KEY]``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bekal.audience import BNN
from bekal.client.convert import client_message
from bekal.decision import Outcome
from bekal.services.eligibility import codec as eligibility_codec
from bekal.services.eligibility.logic import Eligibility
from bekal.services.errors import ServiceError
from bekal.services.matching import codec as matching_codec
from bekal.services.matching.logic import Matching, MatchSettings
from bekal.services.snapshots import ServedRules
from bekal.v1 import eligibility_pb2, facts_pb2, matching_pb2
from tests.rules.rulefiles import DECLARED_FACTS as FACTS
from tests.support.cli import bekal
from tests.support.people import applicant, eligible_client, pb_date

AS_OF = "2019-06-01"
PRIORITY = """
  - id: dependants
    description: Klien yang menanggung keluarga diprioritaskan.
    when: client.dependants > 0
    effect: {priority: 5}
    shareable: false
    reason: {id: "Menanggung {client.dependants} orang.", en: "Has {client.dependants} dependants."}
    source: {interpretation: contoh, of: tests}
"""


@pytest.fixture
def rules(rules_dir: Path) -> Iterator[ServedRules]:
    (rules_dir / "facts.yaml").write_text(FACTS)
    priority = rules_dir / "priority.rules.yaml"
    priority.write_text(priority.read_text() + PRIORITY)
    served = ServedRules(rules_dir)
    served.reload()
    yield served
    served.close()


def request(**client) -> eligibility_pb2.CheckEligibilityRequest:
    return eligibility_pb2.CheckEligibilityRequest(request_id="r1", client=client_message(eligible_client(**client)),
                                                   course_code="JHT-01", as_of_date=pb_date(AS_OF),
                                                   audience=eligibility_pb2.AUDIENCE_BNN)


def test_a_declared_fact_is_decided_with(rules: ServedRules):
    service = Eligibility(rules, None)
    assert dict(client_message({"dependants": 3}).declared)["dependants"].int_value == 3
    (d,) = service.check(eligibility_codec.parse_check(request(dependants=3))).decisions
    assert d.outcome is Outcome.ELIGIBLE and d.priority == 15
    assert [r.message_en for r in d.reasons if r.rule_id == "dependants"] == ["Has 3 dependants."]
    (d,) = service.check(eligibility_codec.parse_check(request())).decisions
    assert d.priority == 10 and "client.dependants" in d.missing  # not known: named, never a silent 0


@pytest.mark.parametrize("declared, field, description", [
    ({"dependents": 3}, "client.declared[dependents]",
     "the rules declare no fact 'client.dependents' (did you mean 'dependants'?)"),
    ({"dependants": "three"}, "client.declared[dependants]", "expected a number, got 'three'"),
    ({"dependants": 2.5}, "client.declared[dependants]", "expected a whole number, got 2.5"),
    ({"dependants": 21}, "client.declared[dependants]", "must be between 0 and 20, got 21"),
    ({"driving_licence": 1}, "client.declared[driving_licence]", "expected true or false, got 1"),
])
def test_an_undeclared_key_or_a_wrong_type_is_invalid_argument_naming_it(rules, declared, field, description):
    service = Eligibility(rules, None)
    with pytest.raises(ServiceError) as err:
        service.check(eligibility_codec.parse_check(request(**declared)))
    assert err.value.code == "INVALID_ARGUMENT"
    assert list(err.value.violations) == [(field, description)]


def test_a_declared_value_without_a_value_is_refused_by_the_codec():
    message = client_message(eligible_client())
    message.declared["dependants"].SetInParent()
    pb = eligibility_pb2.CheckEligibilityRequest(request_id="r1", client=message, as_of_date=pb_date(AS_OF))
    with pytest.raises(ServiceError) as err:
        eligibility_codec.parse_check(pb)
    assert list(err.value.violations) == [("client.declared[dependants]", "no value set")]


def test_a_cohort_names_the_client_and_the_key(rules: ServedRules, tmp_path: Path):
    matching = Matching(rules, None, matching_codec.ProtobufJobFormat())
    good = applicant("A", "JHT-01", dependants=2, referrer="bnn")
    bad = applicant("B", "JHT-01", dependant=2)
    settings = matching_codec.settings_pb(MatchSettings(date(2019, 6, 1), seed=1, audience=BNN))
    pb = matching_pb2.MatchRequest(settings=settings, clients=[client_message(good), client_message(bad)],
                                   courses=[facts_pb2.Course(code="JHT-01", seats=2, declared={
                                       "needs_licence": facts_pb2.DeclaredValue(bool_value=True)})])
    with pytest.raises(ServiceError) as err:
        matching.match(matching_codec.match_request(pb))
    assert [f for f, _ in err.value.violations] == ["clients[1].declared[dependant]",
                                                    "courses[0].declared[needs_licence]"]
    del pb.clients[1]
    del pb.courses[:]
    placement = matching.match(matching_codec.match_request(pb))
    [placed] = placement.clients
    assert placed.course == "JHT-01" and placed.standing is not None and placed.standing.priority == 15


def test_through_a_server_from_the_command_line(rules_dir: Path, start_server, tmp_path: Path):
    """`bekal check` sends a client file's declared facts as plain keys; `bekal match --server` sends cohort
    columns the API does not have as declared facts, and the server's answer is located in the file."""
    (rules_dir / "facts.yaml").write_text(FACTS)
    priority = rules_dir / "priority.rules.yaml"
    priority.write_text(priority.read_text() + PRIORITY)
    server = start_server(rules_dir)
    client = tmp_path / "client.yaml"
    client.write_text("\n".join(f"{k}: {v}" for k, v in eligible_client(dependants=3).items()) + "\n")
    checked = bekal("check", "--client", str(client), "--course", "JHT-01", "--as-of", AS_OF, "--audience", "bnn",
                    *server.cli_args())
    assert checked.code == 0, checked
    assert "priority: 15" in checked.out
    # the server's refusal points at the client file's line
    for content, line in (("id: X-1\nbirth_date: 2019-02-30\n",
                           f"{client}:2:13: client.birth_date: not a real date: 2019-02-30"),
                          ("id: X-1\nbirth_date: 1990-01-01\ndependents: 3\n",
                           f"{client}:3:13: client.declared[dependents]: the rules declare no fact "
                           "'client.dependents' (did you mean 'dependants'?)")):
        client.write_text(content)
        refused = bekal("check", "--client", str(client), "--course", "JHT-01", "--as-of", AS_OF,
                        *server.cli_args())
        assert refused.code == 1 and refused.err.splitlines() == [line], refused.err
    head = "id,birth_date,rehab_stage,referrer,written_test_score,interview_score,education,consent_to_share"
    row = "A,1990-01-01,post_rehabilitation,bnn,80,80,sma,true"
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(f"{head},preferences,dependants\n{row},JHT-01,2\n")
    out = tmp_path / "out.csv"
    placed = bekal("match", "--clients", str(cohort), "--as-of", AS_OF, *server.cli_args(), "--out", str(out),
                   "--no-progress")
    assert placed.code == 0, placed
    cohort.write_text(f"{head},preferences,dependents\n{row},JHT-01,2\n")
    refused = bekal("match", "--clients", str(cohort), "--as-of", AS_OF, *server.cli_args(), "--out", str(out),
                    "--no-progress")
    assert refused.code == 1
    assert (f"{cohort}:2:dependents: the rules declare no fact 'client.dependents' (did you mean 'dependants'?)"
            in refused.err.splitlines()), refused.err
