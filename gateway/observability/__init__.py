"""Observability: Prometheus metrics, health and readiness, structured logs with personal data masked.

- ``metrics``: ``GatewayMetrics``, a registry of each app's own, and the callbacks that
  ``gateway.bootstrap`` hands to the places every message passes;
- ``sampler``: the gauges that need I/O (queue depths, outbox lag, dead letters, overdue cases);
- ``readiness`` / ``routes``: ``/metrics``, ``/healthz``, ``/readyz``;
- ``json_logging``: the JSON (or text) formatter, and the PetitionId/MessageId of the message in hand;
- ``masking``: phone numbers, e-mails and citizen id numbers out of log text.

Errors: this component raises none of its own. Counting and logging must never fail a message, so
a sampler part that fails is logged and counted (``pakn_metrics_sample_errors_total``), and a bad
``log_format`` is refused by the settings (a ``ValueError`` there) before anything starts.
"""
