"""The gateway's client of the national portal's `NationalExchange` (a `gateway.ports.NationalPort`)."""

from connectors.national.client import ZeepNationalClient

__all__ = ["ZeepNationalClient"]
