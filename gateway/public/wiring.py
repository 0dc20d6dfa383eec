"""The public component built from the runtime: its store reads, the letter copies, the routes."""

from __future__ import annotations

from fastapi import APIRouter

from connectors.db.public_letters_store import SqlPublicLetters
from connectors.db.published_answers_store import SqlPublishedAnswers
from gateway.bootstrap import Runtime
from gateway.outbound.answer_documents import SignedLetters
from gateway.public.answers import PublicAnswers
from gateway.public.letter_copy import PublicLetters
from gateway.public.routes import public_router


def build_public_answers(rt: Runtime) -> PublicAnswers:
    documents = SignedLetters(
        rt.config.ministry,
        rt.signer,
        tsa_url=rt.settings.tsa_url,
        seal_image=rt.settings.seal_image,
        on_signed=rt.metrics.signed_pdf,
    )
    letters = PublicLetters(documents, rt.config.routing, SqlPublicLetters(rt.engine))
    return PublicAnswers(SqlPublishedAnswers(rt.engine), rt.config.routing, letters)


def public_answers_router(rt: Runtime) -> APIRouter:
    return public_router(build_public_answers(rt), rt.config.ministry.name)
