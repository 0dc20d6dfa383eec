"""RabbitMQ connector: cases out to units, published from the outbox with confirms.

``topology`` names and declares the exchanges and queues; ``connection`` opens the robust link;
``outbox_relay`` publishes committed outbox rows (gateway.inbound.delivery reads them from the store);
``unit_listener`` is the reference consumer a unit runs. Errors: ``errors`` (tree in its docstring).
"""
