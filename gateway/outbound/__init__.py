"""Outbound: unit replies → signed statuses, answers and transfers to the national portal.

Read top to bottom: unit replies arrive over AMQP (connectors.amqp.reply_consumer) or REST
(gateway.units.replies_api) → replies (the service, one transaction per reply; answer letters are
rendered and PAdES-signed by answer_documents first) → national outbox (every status change,
answer and transfer, in order per petition) → national_sender (zeep client, retries, circuit
breaker, dead letters) → the national portal's NationalExchange.
"""
