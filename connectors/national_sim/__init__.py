"""A simulator of the national portal (Hệ thống thông tin phản ánh, kiến nghị quốc gia), the other side
of the gateway's wire (DESIGN §2).

No public test instance of the national system exists, so the gateway's inbound and outbound paths
are exercised against this: it shares no code with ``gateway`` (only the contract in ``schemas`` and
the ``signing`` component), so a misreading of the contract on one side is not copied to the other.

- ``generator``: realistic Vietnamese petitions as zeep-ready dicts (``generate_petitions``).
- ``ministry_client`` / ``push``: the portal as a client of the gateway's ``MinistryExchange`` —
  signed ``SubmitPetition`` & co., and a concurrent push of generated petitions with a report.
- ``server``: the portal as a server, ``NationalExchange`` at ``POST /soap/national``
  (``create_sim_app``), which checks schema and signature, records every message and notes what the
  gateway's guarantees forbid: statuses out of ``Seq`` order, an answer before status 04; it keeps
  answer letters (``/sim/answers``).
- ``failure_modes``: ``SimFaults``, what the simulator can be told to do wrong (down, slow, Faults)
  for outage tests and demos, from Python or over ``/sim/control``.

Clients sign with ``connectors.soap_signing`` (``SigningPlugin``, ``build_client``,
``build_signed_client``), shared with the gateway so both sides of a test sign alike.
"""
