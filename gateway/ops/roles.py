"""Roles and the authenticated caller, as the operator routes and the console use them."""

from gateway.domain.operators import Principal, Role

__all__ = ["Principal", "Role"]
