"""Shared by the commands: settings, logging, and turning start-up errors into a clear exit."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError

from gateway.domain.errors import RoutingConfigError
from gateway.observability import json_logging
from gateway.settings import Settings
from gateway.startup_errors import StartupError


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Masked text (or JSON, `serve` in production) on stderr, with the message's correlation ids."""
    json_logging.install(log_format, level)


def cli_actor() -> str:
    """Who did it, for the record of operator actions, when it was done from the command line."""
    return f"cli:{getpass.getuser()}"


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        typer.secho(f"Invalid PAKN_ settings:\n{exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


@contextmanager
def startup_errors() -> Iterator[None]:
    try:
        yield
    except (StartupError, RoutingConfigError) as exc:
        typer.secho(f"Cannot start: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
