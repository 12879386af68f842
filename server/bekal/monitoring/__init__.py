"""Monitoring after placement: the facts derived per enrolment from its training records, and the
monitoring rules (``rules/monitoring*.rules.yaml``) that turn them into warnings and alerts for the
referring BNN office.

- :mod:`.history` -- attendance and conduct records, and the running summary of one enrolment's history;
- :mod:`.facts` -- the ``enrolment.*`` facts monitoring rules read, derived from that summary;
- :mod:`.rules` -- loading, checking and testing the monitoring rules, and judging them by durable_rules.

No gRPC, no store: the store (:mod:`bekal.store.monitoring`) keeps the summaries and calls
:func:`.rules.judge` (through the service) once per batch, in the transaction that writes the
records, so an alert is raised with the records that caused it or not at all.
"""
