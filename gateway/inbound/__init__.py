"""Inbound: the national portal's signed SOAP push → checks → durable store → outbox → unit queue.

Read top to bottom: soap_route (HTTP edge) → xml_guard (hostile input) → soap_envelope →
signature check → petition_xml (decode) → intake (the service, one transaction) → case_message
(what the unit's queue receives; the outbox relay in connectors.amqp publishes it).
"""
