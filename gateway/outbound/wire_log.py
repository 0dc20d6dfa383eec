"""The message log for the outbound direction: every attempt to reach the national portal is kept
as the request that left (signed) and the response that came back (with its signature verdict),
each a link of the hash chain, as the inbound SOAP edge keeps what it receives (DESIGN §4)."""

from __future__ import annotations

from connectors.national.client import WireRecord
from gateway.inbound.message_log_hook import MessageLogHook


class NationalWireLog:
    def __init__(self, hook: MessageLogHook, *, national_id: str) -> None:
        self._hook = hook
        self._peer = national_id

    async def __call__(self, wire: WireRecord) -> None:
        # the request and its response queued together: one commit to wait for, not two in a row
        entries = []
        if wire.request is not None:
            entries.append(
                self._hook.entry(
                    direction="out",
                    peer=self._peer,
                    operation=wire.operation,
                    raw=wire.request,
                    verdict="signed",
                    message_id=wire.message_id,
                    outcome=wire.outcome,
                    petition_id=wire.petition_id or None,  # a ListQuery is about no one case
                )
            )
        if wire.response is not None:
            entries.append(
                self._hook.entry(
                    direction="in",
                    peer=self._peer,
                    operation=f"{wire.operation}Response",
                    raw=wire.response.raw,
                    verdict=wire.response.verdict,
                    message_id=wire.message_id,  # the Receipt echoes it: the pair reads together
                    signer=wire.response.signer,
                    outcome=wire.outcome,
                    petition_id=wire.petition_id or None,
                )
            )
        if entries:
            await self._hook.keep(entries)
