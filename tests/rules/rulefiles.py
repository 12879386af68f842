"""Rule files for the rule language tests: build a rule, a ruleset file, a rulebook from them; the broken corpus."""

from __future__ import annotations

from pathlib import Path

from bekal.rulebook import Rulebook, load_rulebook_from_texts

BROKEN = Path(__file__).resolve().parent / "broken"  # one broken rule file per kind of mistake


def rule_text(rule_id: str, when: str, effect: str | int = "ineligible", reason_en: str = "b") -> str:
    """One rule of a ruleset file; ``effect`` is ineligible, pending, or priority points as an int.
    ``when`` is written as a block scalar so any condition text is valid YAML."""
    eff = f"\n      priority: {effect:+d}" if isinstance(effect, int) else f" {effect}"
    body = "\n".join("      " + line for line in when.splitlines())
    return (f"  - id: {rule_id}\n"
            f"    description: d\n"
            f"    when: |\n{body}\n"
            f"    effect:{eff}\n"
            f"    reason: {{id: a, en: \"{reason_en}\"}}\n"
            f"    source: {{interpretation: s, of: t}}\n")


def ruleset_text(*rules: tuple, name: str = "eligibility",
                 effective: tuple[str | None, str | None] | None = None) -> str:
    """A ruleset file; each rule is a ``(id, when[, effect])`` tuple."""
    head = f"ruleset: {name}\ntitle: T\nsource: S\n"
    if effective is not None:
        start, until = effective
        head += "effective:\n" + (f"  from: {start}\n" if start else "") + (f"  until: {until}\n" if until else "")
    return head + "rules:\n" + "".join(rule_text(*r) for r in rules)


def rulebook_of(*rules: tuple, name: str = "eligibility", effective=None) -> Rulebook:
    """A rulebook of one ruleset (named ``eligibility``: nothing is decided without it) in ``t.rules.yaml``."""
    return load_rulebook_from_texts({"t.rules.yaml": ruleset_text(*rules, name=name, effective=effective)})


def parameters_text(**series: dict[str, object]) -> str:
    """A parameters file: ``min_age={"2016-01-01": 18, "2020-01-01": 21}`` for each parameter."""
    out = "parameters:\n"
    for name, values in series.items():
        out += (f"  {name}:\n    description: {{id: d, en: d}}\n    source: {{interpretation: s, of: t}}\n"
                "    values:\n" + "".join(f"      {day}: {value}\n" for day, value in values.items()))
    return out


# a facts file declaring one BNN-only client fact (the default) and one shareable
DECLARED_FACTS = """\
facts:
  client.dependants:
    type: integer
    range: [0, 20]
    description: {id: Jumlah tanggungan, en: Number of dependants}
  client.driving_licence:
    type: bool
    description: {id: Klien memiliki SIM, en: The client holds a driving licence}
    sensitivity: shareable
"""
